"""Every regex that validates a value matches the whole value (`re.fullmatch`), in the SDK and the local platform.

Python's `$` also matches before a final newline, so `re.search("^...$", value)` took a value ending in one
(issue 23, defect 6): a trace context, a run id or an agent id with a trailing newline passed.
"""

import json
from collections.abc import Iterator
from importlib.resources import files
from typing import Any

import httpx2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxpa_sdk._schema import SchemaError, validate, validate_property
from cxpa_sdk.testing import ECHO, LocalPlatform

SPEC = json.loads(files("cxpa_api").joinpath("openapi.json").read_text(encoding="utf-8"))


def _patterns(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every `pattern` in the spec, with where it is."""
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield path, node["pattern"]
        for key, item in node.items():
            yield from _patterns(item, (*path, str(key)))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _patterns(item, (*path, str(index)))


PATTERNS = dict(_patterns(SPEC))
# The component schemas the SDK and the platform validate with `_schema`: a schema, or one of its properties.
SCHEMA_PATTERNS = {
    path: pattern
    for path, pattern in PATTERNS.items()
    if path[:2] == ("components", "schemas") and (len(path) == 3 or (len(path) == 5 and path[3] == "properties"))
}


def _node(path: tuple[str, ...]) -> dict[str, Any]:
    """The spec's schema node at `path`."""
    node: dict[str, Any] = SPEC
    for key in path:
        node = node[key]
    return node


def _validate(path: tuple[str, ...], value: str) -> None:
    """Validate `value` where `path` points: a component schema (enums open) or one of its properties."""
    if len(path) == 3:
        validate(value, path[2], open_enums=True)
    else:
        validate_property(value, path[2], path[4])


def test_every_pattern_in_the_spec_is_anchored() -> None:
    """Each pattern is `^...$`, so matching it whole (Python) and searching it (JSON Schema, ECMA 262) agree."""
    assert PATTERNS, "the spec has no pattern: this test looks in the wrong place"
    for path, pattern in PATTERNS.items():
        assert pattern.startswith("^"), "/".join(path)
        assert pattern.endswith("$"), "/".join(path)


@pytest.mark.parametrize("path", list(SCHEMA_PATTERNS), ids=["/".join(p[2:]) for p in SCHEMA_PATTERNS])
@given(data=st.data())
def test_a_schema_pattern_matches_the_whole_value(path: tuple[str, ...], data: st.DataObject) -> None:
    """A value the pattern takes passes; with a newline, a CR or a NUL after it, it is refused."""
    node = _node(path)
    shortest, longest = node.get("minLength", 0), node.get("maxLength", 10_000) - 2  # room for the tail
    values = st.from_regex(SCHEMA_PATTERNS[path], fullmatch=True).filter(lambda v: shortest <= len(v) <= longest)
    value = data.draw(values, label="value")
    _validate(path, value)
    tail = data.draw(st.sampled_from(["\n", "\r\n", "\r", "\0"]), label="tail")
    with pytest.raises(SchemaError, match="must match"):
        _validate(path, value + tail)


@pytest.mark.parametrize("agent_id", [f"{ECHO}%0A", f"{ECHO}%0D%0A", f"%0A{ECHO}", f"{ECHO}%00"])
def test_the_platform_refuses_an_agent_id_that_is_not_only_digits(cxpa_platform: LocalPlatform, agent_id: str) -> None:
    """`/api/agents/42%0A/...` is 400 invalid_parameter, not agent 42: the path's agentId is matched whole."""
    response = httpx2.post(
        f"{cxpa_platform.base_url}/api/agents/{agent_id}/runs/trigger",
        json={"input": {}},
        headers={"Authorization": f"Bearer {cxpa_platform.ingest_key}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_parameter"
