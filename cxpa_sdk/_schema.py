"""Validation by the spec's own schemas (openapi.json, shipped in cxpa_api).

The local platform checks requests with it; the clients check answers (where an unknown enum value
from a newer platform is allowed). A `pattern` must match the whole string (`re.fullmatch`): the
spec's patterns are anchored (`^...$`), and Python's `$` also matches before a final newline.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from functools import cache
from typing import Any

JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "null": (type(None),),
    "number": (int, float),
    "integer": (int,),
}


class SchemaError(ValueError):
    """A value does not match a schema; the message names the field (`input.url: must be ...`)."""


@cache
def spec() -> dict[str, Any]:
    """The OpenAPI document the generated client was built from (read once, on first use).

    It is found next to cxpa_api's files without importing cxpa_api (which would import attrs and
    the whole generated package, about 25 ms); a zipped install falls back to importlib.resources.
    """
    import importlib.util  # noqa: PLC0415 - only the first validation needs it
    from pathlib import Path  # noqa: PLC0415 - as importlib.util above

    found = importlib.util.find_spec("cxpa_api")
    locations = list(found.submodule_search_locations or []) if found else []
    path = Path(locations[0]) / "openapi.json" if locations else None
    if path is not None and path.is_file():
        text = path.read_text(encoding="utf-8")
    else:
        from importlib.resources import files  # noqa: PLC0415 - only an installed package reads its spec this way

        text = files("cxpa_api").joinpath("openapi.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def schema(name: str) -> dict[str, Any]:
    """A component schema by name."""
    found: dict[str, Any] = spec()["components"]["schemas"][name]
    return found


def validate(value: Any, name: str, *, open_enums: bool = False) -> None:
    """Check a decoded JSON value against component schema `name`; raise SchemaError naming the field.

    With `open_enums`, a string outside an enum passes (a value a newer platform added).
    """
    _compiled(schema(name), open_enums)(value, None)


def validate_property(value: Any, name: str, field: str) -> None:
    """Check one property's value against property `field` of component schema `name`; SchemaError naming it."""
    _compiled(schema(name)["properties"][field], False)(value, (None, field))


# Where a value sits, built only when an error names it: None for the body, else (parent, key) with
# key a property's name or an array's index.
Path = tuple[Any, str | int] | None
Check = Callable[[Any, Path], None]
_COMPILED: dict[tuple[int, bool], Check] = {}


def _where(path: Path) -> str:
    """The path as the errors name it: `ended[3].status`, or `body` for the whole value."""
    keys: list[str | int] = []
    while path is not None:
        path, key = path
        keys.append(key)
    where = ""
    for key in reversed(keys):
        where = f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}" if where else key
    return where or "body"


def _is_date_time(value: str) -> bool:
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        return False
    return "T" in value.upper() and parsed.tzinfo is not None


def _compiled(node: dict[str, Any], open_enums: bool) -> Check:
    """The check of a schema node, compiled once (the spec's nodes live as long as the process)."""
    key = (id(node), open_enums)
    found = _COMPILED.get(key)
    if found is None:
        found = _COMPILED[key] = _compile(node, open_enums)
    return found


def _compile(node: dict[str, Any], open_enums: bool) -> Check:
    """One function that checks a value against `node`: its keywords in a fixed order, each looked up once."""
    steps: list[Check] = []
    if "$ref" in node:
        steps.append(_ref(schema(node["$ref"].rsplit("/", 1)[-1]), open_enums))
    if "oneOf" in node:
        steps.append(_one_of(node, open_enums))
    if "const" in node:
        steps.append(_const(node["const"]))
    if "type" in node:
        steps.append(_type(node["type"] if isinstance(node["type"], list) else [node["type"]]))
    if "enum" in node:
        steps.append(_enum(node["enum"], open_enums))
    if node.keys() & {"minLength", "maxLength", "pattern", "format"}:
        steps.append(_string(node))
    if "minimum" in node or "maximum" in node:
        steps.append(_number(node.get("minimum"), node.get("maximum")))
    if node.keys() & {"required", "properties", "additionalProperties"}:
        steps.append(_object(node, open_enums))
    if node.keys() & {"minItems", "maxItems", "items"}:
        steps.append(_array(node, open_enums))
    if "not" in node:
        steps.append(_not(node["not"], open_enums))
    if "if" in node:
        steps.append(_if(node["if"], node.get("then", {}), open_enums))
    if len(steps) <= 1:
        return steps[0] if steps else _anything

    def check(value: Any, path: Path) -> None:
        for step in steps:
            step(value, path)

    return check


def _anything(value: Any, path: Path) -> None:
    """The check of a node without keywords: any value."""


def _ref(target: dict[str, Any], open_enums: bool) -> Check:
    # Compiled when first used, not now: a schema may refer to itself.
    compiled: list[Check] = []

    def check(value: Any, path: Path) -> None:
        if not compiled:
            compiled.append(_compiled(target, open_enums))
        compiled[0](value, path)

    return check


def _const(const: Any) -> Check:
    def check(value: Any, path: Path) -> None:
        if value != const:
            raise SchemaError(f"{_where(path)}: must be {json.dumps(const)}")

    return check


def _type(types: list[str]) -> Check:
    # JSON Schema's types as Python's: a bool is no number, and a whole float is an integer.
    boolean, integer, number = "boolean" in types, "integer" in types, "number" in types
    others = tuple(kind for name in types if name not in ("boolean", "integer", "number") for kind in JSON_TYPES[name])
    wanted = " or ".join(types)

    def check(value: Any, path: Path) -> None:
        kind = type(value)
        if kind is bool:
            ok = boolean
        elif kind is float:
            ok = number or (integer and value.is_integer())
        elif kind is int:
            ok = integer or number
        else:
            ok = isinstance(value, others) if others else False
        if not ok:
            raise SchemaError(f"{_where(path)}: must be {wanted}")

    return check


def _enum(enum: list[Any], open_enums: bool) -> Check:
    def check(value: Any, path: Path) -> None:
        if value not in enum and not (open_enums and isinstance(value, str)):
            raise SchemaError(f"{_where(path)}: must be one of {', '.join(map(str, enum))}")

    return check


def _string(node: dict[str, Any]) -> Check:
    shortest, longest = node.get("minLength", 0), node.get("maxLength")
    pattern = re.compile(node["pattern"]) if "pattern" in node else None
    date_time = node.get("format") == "date-time"

    def check(value: Any, path: Path) -> None:
        if not isinstance(value, str):
            return
        if len(value) < shortest:
            raise SchemaError(
                f"{_where(path)}: must not be empty"
                if shortest == 1
                else f"{_where(path)}: must be at least {shortest} characters"
            )
        if longest is not None and len(value) > longest:
            raise SchemaError(f"{_where(path)}: must be at most {longest} characters")
        if pattern is not None and not pattern.fullmatch(value):
            raise SchemaError(f"{_where(path)}: must match {pattern.pattern}")
        if date_time and not _is_date_time(value):
            raise SchemaError(f"{_where(path)}: must be an RFC 3339 date-time")

    return check


def _number(least: float | None, most: float | None) -> Check:
    def check(value: Any, path: Path) -> None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if least is not None and value < least:
                raise SchemaError(f"{_where(path)}: must be at least {least}")
            if most is not None and value > most:
                raise SchemaError(f"{_where(path)}: must be at most {most}")

    return check


def _object(node: dict[str, Any], open_enums: bool) -> Check:
    required = node.get("required", [])
    properties = {field: _compiled(item, open_enums) for field, item in node.get("properties", {}).items()}
    extra = node.get("additionalProperties", True)
    extra_check = _compiled(extra, open_enums) if isinstance(extra, dict) else None
    refuse_extra = extra is False

    def check(value: Any, path: Path) -> None:
        if not isinstance(value, dict):
            return
        for field in required:
            if field not in value:
                raise SchemaError(f"{_where((path, field))}: is required")
        for field, item in value.items():
            known = properties.get(field)
            if known is not None:
                known(item, (path, field))
            elif refuse_extra:
                raise SchemaError(f"{_where((path, field))}: is not a known field")
            elif extra_check is not None:
                extra_check(item, (path, field))

    return check


def _array(node: dict[str, Any], open_enums: bool) -> Check:
    fewest, most = node.get("minItems", 0), node.get("maxItems")
    each = _compiled(node["items"], open_enums) if "items" in node else None

    def check(value: Any, path: Path) -> None:
        if not isinstance(value, list):
            return
        if len(value) < fewest:
            raise SchemaError(f"{_where(path)}: must have at least {fewest} items")
        if most is not None and len(value) > most:
            raise SchemaError(f"{_where(path)}: must have at most {most} items")
        if each is not None:
            for index, item in enumerate(value):
                each(item, (path, index))

    return check


def _matches(check: Check, value: Any, path: Path) -> bool:
    try:
        check(value, path)
    except SchemaError:
        return False
    return True


def _not(forbidden: dict[str, Any], open_enums: bool) -> Check:
    why = forbidden.get("description", "matches a form the schema forbids")

    def check(value: Any, path: Path) -> None:
        if _matches(_compiled(forbidden, open_enums), value, path):
            raise SchemaError(f"{_where(path)}: {why}")

    return check


def _if(condition: dict[str, Any], then: dict[str, Any], open_enums: bool) -> Check:
    def check(value: Any, path: Path) -> None:
        if _matches(_compiled(condition, open_enums), value, path):
            _compiled(then, open_enums)(value, path)

    return check


def _one_of(node: dict[str, Any], open_enums: bool) -> Check:
    discriminator = node.get("discriminator")
    options = node["oneOf"]
    admitted = [_admitted_types(option) for option in options]

    def check(value: Any, path: Path) -> None:
        if discriminator and isinstance(value, dict):
            tag = value.get(discriminator["propertyName"])
            mapping = discriminator["mapping"]
            if not isinstance(tag, str) or tag not in mapping:
                raise SchemaError(
                    f"{_where((path, discriminator['propertyName']))}: must be one of {', '.join(mapping)}"
                )
            _compiled(schema(mapping[tag].rsplit("/", 1)[-1]), open_enums)(value, path)
            return
        for option, kinds in zip(options, admitted, strict=True):  # first those whose type admits it, quietly
            admits = kinds is None or (isinstance(value, kinds) and (bool in kinds or not isinstance(value, bool)))
            if admits and _matches(_compiled(option, open_enums), value, path):
                return
        errors = []  # none matched: every option's error, for the message
        for option in options:
            try:
                _compiled(option, open_enums)(value, path)
            except SchemaError as exc:
                errors.append(str(exc))
            else:
                return
        raise SchemaError(errors[0] if len(errors) == 1 else f"{_where(path)}: matches none of: " + "; ".join(errors))

    return check


def _admitted_types(node: dict[str, Any]) -> tuple[type, ...] | None:
    """The Python types the node's `type` (or its `$ref`'s) may admit; None when it names none.

    A number or an integer admits int and float (a whole float is an integer); bool is listed only
    for `boolean`, and the caller refuses a bool unless bool is listed (a bool is an int in Python).
    """
    while "type" not in node and "$ref" in node:
        node = schema(node["$ref"].rsplit("/", 1)[-1])
    types = node.get("type")
    if types is None:
        return None
    kinds: list[type] = []
    for name in types if isinstance(types, list) else [types]:
        kinds += (int, float) if name in ("integer", "number") else JSON_TYPES[name]
    return tuple(kinds)
