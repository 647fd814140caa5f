"""Typed input: the model an agent function's `run` parameter names (`RunContext[MyInput]`), and the input's check.

A model is a dataclass or a pydantic model (anything with `model_validate`). A dataclass input is
checked here, field by field, for the types a JSON input can have (str, int, float, bool, None,
lists, dicts, Literal, unions, nested dataclasses; a type this check does not know is taken as it
is); a field the dataclass does not have is refused, so that a misspelt optional field is not
silently left at its default. A pydantic model checks itself. Either way a bad input is an
`InvalidInputError` whose message names the field (`input.items[2].name: expected int, got str`).
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Union, get_args, get_origin

MAX_MESSAGE = 1000  # an error message's length at most: the input is the caller's, its keys could be huge


class InvalidInputError(Exception):
    """A run's input does not fit its agent function's model; the run is failed with this, naming the field."""


def input_model(function: Callable[..., Any], contexts: tuple[type, ...]) -> type | None:
    """The model of `function`'s first parameter, when it is annotated `RunContext[Model]` (one of `contexts`).

    None when the parameter is not annotated, or with a bare context or a `dict` input.

    Raises:
        TypeError: The annotation names a type this module cannot resolve, or a model that is
            neither a dataclass nor a pydantic model.
    """
    parameters = list(inspect.signature(function).parameters.values())
    if not parameters or parameters[0].annotation is inspect.Parameter.empty:
        return None
    annotation = _resolved(function, parameters[0].annotation)
    if get_origin(annotation) not in contexts:
        return None
    (model,) = get_args(annotation)
    if model is Any or get_origin(model) in (dict, Mapping) or model is dict:
        return None
    if not isinstance(model, type) or not (dataclasses.is_dataclass(model) or hasattr(model, "model_validate")):
        raise TypeError(f"{function.__qualname__}'s input model must be a dataclass or a pydantic model, not {model!r}")
    return model


def _resolved(function: Callable[..., Any], annotation: Any) -> Any:
    """The run parameter's annotation, resolved in the function's module (only it: the others may not resolve)."""
    if not isinstance(annotation, str):
        return annotation
    globals_of = getattr(inspect.unwrap(function), "__globals__", {})
    probe = types.FunctionType(_probe.__code__, globals_of)
    probe.__annotations__ = {"run": annotation}
    try:
        return typing.get_type_hints(probe)["run"]
    except Exception as exc:  # a NameError, usually: a model defined where the function cannot see it
        if "[" not in annotation:
            return None  # no model named (`run: RunContext`, imported for type checkers only): a dict input
        raise TypeError(f"the annotation of {function.__qualname__}'s run parameter does not resolve: {exc}") from exc


def _probe(run: Any) -> None:
    """A function whose code carries one annotation, resolved in another module's globals (`_resolved`)."""


def parse_input(model: type, data: Mapping[str, Any]) -> Any:
    """The run's input as an instance of `model`.

    Raises:
        InvalidInputError: The input does not fit the model; the message names the field.
    """
    validate = getattr(model, "model_validate", None)
    if validate is not None:
        return _pydantic(validate, data)
    try:
        return _value(data, model, "input")
    except RecursionError:  # a recursive model, and an input nested deeper than Python recurses
        raise InvalidInputError("input: nested too deep to check") from None


def _pydantic(validate: Callable[[Any], Any], data: Mapping[str, Any]) -> Any:
    try:
        return validate(dict(data))
    except ValueError as exc:  # pydantic's ValidationError is one
        errors = getattr(exc, "errors", None)
        if not callable(errors):
            raise InvalidInputError(_bounded(f"input: {exc}")) from None
        first = errors()[0]
        path = "input"
        for part in first.get("loc", ()):
            path = f"{path}[{part}]" if isinstance(part, int) else _member(path, str(part))
        raise InvalidInputError(_bounded(f"{path}: {first.get('msg', 'invalid')}")) from None


def _value(value: Any, annotation: Any, path: str) -> Any:  # noqa: PLR0911 - one answer per kind of type
    """`value` checked against `annotation` (and built, for a dataclass), or InvalidInputError naming `path`."""
    origin = get_origin(annotation)
    if annotation is Any or annotation is object:
        return value
    if origin is Union or origin is types.UnionType:
        return _union(value, get_args(annotation), path)
    if origin is Literal:
        if value not in get_args(annotation):
            raise _wrong(path, " or ".join(repr(arg) for arg in get_args(annotation)), value)
        return value
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return _dataclass(value, annotation, path)
    if origin in (list, Sequence) or annotation is list:
        if not isinstance(value, list):
            raise _wrong(path, _described(list), value)
        (item,) = get_args(annotation) or (Any,)
        return [_value(element, item, f"{path}[{index}]") for index, element in enumerate(value)]
    if origin in (dict, Mapping) or annotation is dict:
        if not isinstance(value, dict):
            raise _wrong(path, "an object", value)
        item = get_args(annotation)[1] if get_args(annotation) else Any
        return {key: _value(element, item, _member(path, key)) for key, element in value.items()}
    return _scalar(value, annotation, path)


def _scalar(value: Any, annotation: Any, path: str) -> Any:
    if annotation is None:
        annotation = type(None)
    if annotation not in SCALARS:
        return value  # a type this check does not know: taken as it is
    wanted = int | float if annotation is float else annotation
    if not isinstance(value, wanted) or (isinstance(value, bool) and annotation is not bool):
        raise _wrong(path, SCALARS[annotation], value)
    return float(value) if annotation is float else value


def _union(value: Any, arms: tuple[Any, ...], path: str) -> Any:
    errors: list[InvalidInputError] = []
    for arm in arms:
        try:
            return _value(value, arm, path)
        except InvalidInputError as exc:
            errors.append(exc)
    if len(errors) == 1:
        raise errors[0]
    raise _wrong(path, " or ".join(_described(arm) for arm in arms), value)


def _dataclass(value: Any, model: type, path: str) -> Any:
    if not isinstance(value, dict):
        raise _wrong(path, _described(model), value)
    hints = typing.get_type_hints(model)
    fields = {field.name: field for field in dataclasses.fields(model) if field.init}
    unknown = [key for key in value if key not in fields]
    if unknown:
        raise InvalidInputError(_bounded(f"{_member(path, unknown[0])}: not a field of {model.__name__}"))
    arguments: dict[str, Any] = {}
    for name, field in fields.items():
        if name in value:
            arguments[name] = _value(value[name], hints.get(name, Any), f"{path}.{name}")
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise InvalidInputError(_bounded(f"{path}.{name}: required by {model.__name__}, missing"))
    return model(**arguments)


SCALARS = {str: "a string", int: "an integer", float: "a number", bool: "a boolean", type(None): "null"}


def _described(annotation: Any) -> str:
    """What a value of `annotation` is, in JSON's words (`a string`, `a list`, `an object (Page)`)."""
    if annotation in SCALARS:
        return SCALARS[annotation]
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return f"an object ({annotation.__name__})"
    origin = get_origin(annotation) or annotation
    if origin in (list, Sequence):
        return "a list"
    if origin in (dict, Mapping):
        return "an object"
    return getattr(annotation, "__name__", None) or repr(annotation)


def _member(path: str, key: str) -> str:
    """The path of `key` in `path`: `.key`, or `['key']` for a key that is no plain name (quoted, printable)."""
    return f"{path}.{key}" if key.isidentifier() and key.isascii() else f"{path}[{key!r}]"


def _wrong(path: str, expected: str, value: Any) -> InvalidInputError:
    got = "null" if value is None else type(value).__name__
    return InvalidInputError(_bounded(f"{path}: expected {expected}, got {got}"))


def _bounded(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 3] + "..."
