"""The local platform compares what the contract says it compares: a body's JSON value, not its bytes.

Any client, not only this SDK, replays equal JSON under its Idempotency-Key: key order, whitespace,
string escapes and the spelling of a number do not make another body (issue 23, defect 9).
"""

import json
from typing import Any

import httpx2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxpa_sdk.testing import ECHO, LocalPlatform
from cxpa_sdk.testing._idempotency import canonical_body

FIRST = b'{"input":{"a":1,"b":{"x":[1,2],"y":"\xc3\xa9"}}}'
SAME_JSON = {
    "keys-reordered": b'{"input":{"b":{"y":"\xc3\xa9","x":[1,2]},"a":1}}',
    "whitespace": b' {\n  "input" : { "a" : 1 ,\t"b" : { "x" : [ 1 , 2 ] , "y" : "\xc3\xa9" } }\n} ',
    "escaped": b'{"\\u0069nput":{"a":1,"b":{"x":[1,2],"y":"\\u00e9"}}}',
    "numbers-spelled-otherwise": b'{"input":{"a":1.0,"b":{"x":[1e0,0.2E1],"y":"\xc3\xa9"}}}',
}
OTHER_JSON = {
    "another-value": b'{"input":{"a":2,"b":{"x":[1,2],"y":"\xc3\xa9"}}}',
    "array-reordered": b'{"input":{"a":1,"b":{"x":[2,1],"y":"\xc3\xa9"}}}',
    "a-string-not-a-number": b'{"input":{"a":"1","b":{"x":[1,2],"y":"\xc3\xa9"}}}',
    "one-key-more": b'{"input":{"a":1,"b":{"x":[1,2],"y":"\xc3\xa9"},"c":null}}',
}


def trigger(http: httpx2.Client, key: str, body: bytes) -> httpx2.Response:
    """POST trigger with raw body bytes and an Idempotency-Key."""
    headers = {"Idempotency-Key": key, "Content-Type": "application/json"}
    return http.post(f"/api/agents/{ECHO}/runs/trigger", content=body, headers=headers)


@pytest.mark.parametrize("body", list(SAME_JSON.values()), ids=list(SAME_JSON))
def test_the_same_json_value_replays(http: httpx2.Client, cxpa_platform: LocalPlatform, body: bytes) -> None:
    """A body that is the same JSON value as the first, written otherwise, replays the first run."""
    key = f"same-json-{body.hex()[:40]}"
    before = len(cxpa_platform.runs(ECHO))
    first = trigger(http, key, FIRST)
    again = trigger(http, key, body)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["runId"] == first.json()["runId"]
    assert again.headers["idempotent-replayed"] == "true"
    assert len(cxpa_platform.runs(ECHO)) == before + 1


@pytest.mark.parametrize("body", list(OTHER_JSON.values()), ids=list(OTHER_JSON))
def test_another_json_value_is_422(http: httpx2.Client, body: bytes) -> None:
    """A body that is another JSON value with the key is still 422 idempotency_key_reused."""
    key = f"other-json-{body.hex()[:40]}"
    assert trigger(http, key, FIRST).status_code == 202
    again = trigger(http, key, body)
    assert again.status_code == 422
    assert again.json()["error"]["code"] == "idempotency_key_reused"


def test_a_cancel_body_that_is_not_json_is_compared_byte_for_byte() -> None:
    """A body that is not JSON (a cancel's) is its bytes: equal bytes are the same body, others are not."""
    assert canonical_body(b"") == b""
    assert canonical_body(b"not json") == b"not json"
    assert canonical_body(b"not json") != canonical_body(b"not json ")
    assert canonical_body(b"[" * 100_000) == b"[" * 100_000  # too deep to read: its bytes, no RecursionError


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def _reordered(value: Any) -> Any:
    """The same JSON with every object's keys in reverse order."""
    if isinstance(value, dict):
        return {key: _reordered(value[key]) for key in reversed(value)}
    if isinstance(value, list):
        return [_reordered(item) for item in value]
    return value


@given(JSON, st.sampled_from([None, 0, 2]), st.booleans())
def test_canonical_body_depends_on_the_json_value_only(value: Any, indent: int | None, ascii_only: bool) -> None:
    """However a JSON value is written (key order, indentation, escapes), its canonical body is one, and reads back."""
    plain = canonical_body(json.dumps(value).encode())
    written = json.dumps(_reordered(value), indent=indent, ensure_ascii=ascii_only).encode()
    assert canonical_body(written) == plain
    assert json.loads(plain) == value
