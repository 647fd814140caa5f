"""Validation by the spec's own schemas (openapi.json, shipped in cxpa_api).

The local platform checks requests with it; the clients check answers (where an unknown enum value
from a newer platform is allowed). A `pattern` must match the whole string (`re.fullmatch`): the
spec's patterns are anchored (`^...$`), and Python's `$` also matches before a final newline.
"""

from __future__ import annotations

import datetime
import json
import re
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
    _check(value, schema(name), "", open_enums)


def validate_property(value: Any, name: str, field: str) -> None:
    """Check one property's value against property `field` of component schema `name`; SchemaError naming it."""
    _check(value, schema(name)["properties"][field], field, False)


def _where(path: str) -> str:
    return path or "body"


def _is_date_time(value: str) -> bool:
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        return False
    return "T" in value.upper() and parsed.tzinfo is not None


def _type_ok(value: Any, wanted: str) -> bool:
    if wanted in ("integer", "number") and isinstance(value, bool):
        return False
    if wanted == "integer" and isinstance(value, float):
        return value.is_integer()  # JSON Schema: 3.0 is an integer
    return isinstance(value, JSON_TYPES[wanted])


def _check(value: Any, node: dict[str, Any], path: str, open_enums: bool) -> None:  # noqa: PLR0912 - one branch per keyword
    if "$ref" in node:
        _check(value, schema(node["$ref"].rsplit("/", 1)[-1]), path, open_enums)
    if "oneOf" in node:
        _check_one_of(value, node, path, open_enums)
    if "const" in node and value != node["const"]:
        raise SchemaError(f"{_where(path)}: must be {json.dumps(node['const'])}")
    if "type" in node:
        types = node["type"] if isinstance(node["type"], list) else [node["type"]]
        if not any(_type_ok(value, t) for t in types):
            raise SchemaError(f"{_where(path)}: must be {' or '.join(types)}")
    if "enum" in node and value not in node["enum"] and not (open_enums and isinstance(value, str)):
        raise SchemaError(f"{_where(path)}: must be one of {', '.join(map(str, node['enum']))}")
    if isinstance(value, str):
        if len(value) < node.get("minLength", 0):
            raise SchemaError(
                f"{_where(path)}: must not be empty"
                if node["minLength"] == 1
                else f"{_where(path)}: must be at least {node['minLength']} characters"
            )
        if "maxLength" in node and len(value) > node["maxLength"]:
            raise SchemaError(f"{_where(path)}: must be at most {node['maxLength']} characters")
        if "pattern" in node and not re.fullmatch(node["pattern"], value):
            raise SchemaError(f"{_where(path)}: must match {node['pattern']}")
        if node.get("format") == "date-time" and not _is_date_time(value):
            raise SchemaError(f"{_where(path)}: must be an RFC 3339 date-time")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in node and value < node["minimum"]:
            raise SchemaError(f"{_where(path)}: must be at least {node['minimum']}")
        if "maximum" in node and value > node["maximum"]:
            raise SchemaError(f"{_where(path)}: must be at most {node['maximum']}")
    if isinstance(value, dict):
        _check_object(value, node, path, open_enums)
    if isinstance(value, list):
        if len(value) < node.get("minItems", 0):
            raise SchemaError(f"{_where(path)}: must have at least {node['minItems']} items")
        if "maxItems" in node and len(value) > node["maxItems"]:
            raise SchemaError(f"{_where(path)}: must have at most {node['maxItems']} items")
        if "items" in node:
            for index, item in enumerate(value):
                _check(item, node["items"], f"{path}[{index}]", open_enums)
    if "not" in node and _matches(value, node["not"], path, open_enums):
        raise SchemaError(f"{_where(path)}: {node['not'].get('description', 'matches a form the schema forbids')}")
    if "if" in node and _matches(value, node["if"], path, open_enums):
        _check(value, node.get("then", {}), path, open_enums)


def _matches(value: Any, node: dict[str, Any], path: str, open_enums: bool) -> bool:
    try:
        _check(value, node, path, open_enums)
    except SchemaError:
        return False
    return True


def _check_object(value: dict[str, Any], node: dict[str, Any], path: str, open_enums: bool) -> None:
    prefix = f"{path}." if path else ""
    for field in node.get("required", []):
        if field not in value:
            raise SchemaError(f"{prefix}{field}: is required")
    properties = node.get("properties", {})
    extra = node.get("additionalProperties", True)
    for field, item in value.items():
        if field in properties:
            _check(item, properties[field], f"{prefix}{field}", open_enums)
        elif extra is False:
            raise SchemaError(f"{prefix}{field}: is not a known field")
        elif isinstance(extra, dict):
            _check(item, extra, f"{prefix}{field}", open_enums)


def _check_one_of(value: Any, node: dict[str, Any], path: str, open_enums: bool) -> None:
    discriminator = node.get("discriminator")
    if discriminator and isinstance(value, dict):
        tag = value.get(discriminator["propertyName"])
        mapping = discriminator["mapping"]
        if not isinstance(tag, str) or tag not in mapping:
            where = f"{path}.{discriminator['propertyName']}" if path else discriminator["propertyName"]
            raise SchemaError(f"{where}: must be one of {', '.join(mapping)}")
        _check(value, {"$ref": mapping[tag]}, path, open_enums)
        return
    errors = []
    for option in node["oneOf"]:
        try:
            _check(value, option, path, open_enums)
        except SchemaError as exc:
            errors.append(str(exc))
        else:
            return
    raise SchemaError(errors[0] if len(errors) == 1 else f"{_where(path)}: matches none of: " + "; ".join(errors))
