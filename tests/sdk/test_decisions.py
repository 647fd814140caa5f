"""The engine's pure decisions against a misbehaving server: decoding, the applied flag, poll pacing, scrubbing."""

import gzip
import zlib

import pytest

from cxpa_sdk import APIConnectionError, InvalidArgumentError, InvalidResponseError
from cxpa_sdk._core._decoding import PIECE, Decoder, DecodingError
from cxpa_sdk._core._operations import PACE_MAX_S, PACE_MIN_S, pace
from cxpa_sdk._errors import applied_by_answer, scrub


def decode_all(encoding: str | None, raw: bytes, feed: int = 1000) -> bytes:
    """The decoded body, the raw bytes fed `feed` at a time."""
    decoder = Decoder(encoding)
    out = b"".join(piece for i in range(0, len(raw), feed) for piece in decoder.feed(raw[i : i + feed]))
    return out + b"".join(decoder.finish())


def zeros_gzip(size: int) -> bytes:
    """Gzip of `size` zero bytes, built without holding them."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    parts = [packer.compress(block) for _ in range(size >> 20)]
    return b"".join([*parts, packer.flush()])


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        (None, lambda b: b),
        ("identity", lambda b: b),
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b, wbits=-zlib.MAX_WBITS)),
        ("gzip, gzip", lambda b: gzip.compress(gzip.compress(b))),
        ("deflate, gzip", lambda b: gzip.compress(zlib.compress(b))),
        ("GZIP , identity", gzip.compress),
    ],
    ids=["none", "identity", "gzip", "x-gzip", "zlib-deflate", "raw-deflate", "gzip-gzip", "deflate-gzip", "spaced"],
)
def test_decoder_undoes_the_codings_the_sdk_asks_for(encoding: str | None, encode) -> None:
    """Gzip and deflate (zlib or raw), alone or two stacked, decode to the original bytes, fed in any pieces."""
    body = b'{"runId": "run_1", "status": "queued"}' * 500
    assert decode_all(encoding, encode(body)) == body
    assert decode_all(encoding, encode(body), feed=1) == body


def test_two_gzip_members_decode_one_after_the_other() -> None:
    """A gzip body of two members (RFC 1952 allows it) decodes to both."""
    assert decode_all("gzip", gzip.compress(b"ab") + gzip.compress(b"cd")) == b"abcd"


def test_a_bomb_comes_out_in_bounded_pieces() -> None:
    """512 MiB of zeros in 500 KiB of gzip (and gzip of that) come out in pieces of at most PIECE bytes."""
    for encoding, raw in [("gzip", zeros_gzip(512 << 20)), ("gzip, gzip", gzip.compress(zeros_gzip(512 << 20)))]:
        pieces = Decoder(encoding).feed(raw)
        seen = 0
        for _, piece in zip(range(64), pieces, strict=False):  # bounded: the caller stops at its limit
            assert 0 < len(piece) <= PIECE
            seen += len(piece)
        assert seen > PIECE


@pytest.mark.parametrize(
    ("encoding", "raw", "problem"),
    [
        ("gzip", b"this is not gzip", "not valid gzip"),
        ("deflate", b"\xff\xff\xff\xff", "not valid deflate"),
        ("gzip", gzip.compress(b"x" * 1000)[:-10], "ends before its end marker"),
        ("gzip", gzip.compress(b"x") + b"trailing garbage", "not valid gzip"),
    ],
    ids=["not-gzip", "not-deflate", "cut-short", "trailing-garbage"],
)
def test_broken_codings_are_decoding_errors(encoding: str, raw: bytes, problem: str) -> None:
    """Bytes that are not what their Content-Encoding says, or end early, are a DecodingError."""
    with pytest.raises(DecodingError, match=problem):
        decode_all(encoding, raw)


@pytest.mark.parametrize(
    ("encoding", "problem"),
    [("br", "'br' is not one the SDK asked for"), ("gzip, gzip, gzip", "3 content codings"), ("zstd", "'zstd'")],
    ids=["brotli", "three-stacked", "zstd"],
)
def test_codings_the_sdk_did_not_ask_for_are_refused(encoding: str, problem: str) -> None:
    """A coding outside `gzip, deflate`, or more than two stacked, is refused before any byte is decoded."""
    with pytest.raises(DecodingError, match=problem):
        Decoder(encoding)


@pytest.mark.parametrize(
    ("status", "code", "applied"),
    [
        (200, None, True),
        (202, None, True),
        (204, None, True),
        (400, "invalid_body", False),
        (404, "not_found", False),
        (409, "run_finished", False),
        (409, "idempotency_in_progress", None),
        (409, "download_not_replayable", True),
        (429, "rate_limited", False),
        (502, "run_failed", True),
        (504, "wait_timeout", True),
        (500, "internal_error", None),
        (503, "unavailable", None),
        (502, None, None),
        (404, None, None),
        (307, None, None),
    ],
    ids=str,
)
def test_applied_is_what_the_answer_proves(status: int, code: str | None, applied: bool | None) -> None:
    """2xx: applied; a 4xx in the envelope: not; a code that says the run exists: applied; else unknown."""
    assert applied_by_answer(status, code) is applied


def test_pace_holds_off_a_server_that_answers_early_and_resets_once_it_holds() -> None:
    """Early answers double a floor from PACE_MIN_S to PACE_MAX_S; one held read resets it."""
    floor, waits = 0.0, []
    for _ in range(8):
        wait, floor = pace(floor, window_s=50.0, took_s=0.001)
        waits.append(wait)
    assert waits[0] == pytest.approx(PACE_MIN_S - 0.001)
    assert waits == sorted(waits)
    assert floor == PACE_MAX_S
    assert pace(floor, window_s=50.0, took_s=30.0) == (0.0, 0.0)


def test_pace_over_two_seconds_makes_a_handful_of_requests() -> None:
    """Against a server that never holds, a 2 s wait makes under ten reads (it made about 1,900)."""
    floor, spent, reads = 0.0, 0.0, 0
    while spent < 2.0:
        reads += 1
        wait, floor = pace(floor, window_s=2.0 - spent, took_s=0.001)
        spent += 0.001 + wait
    assert reads < 10


def test_scrub_masks_every_secret_in_every_text_field() -> None:
    """A key the server echoed into the message, code, run id or request id is masked everywhere."""
    error = InvalidResponseError(
        "answer 'sk-secret' is bad", status_code=200, request_id="req-sk-secret", attempts=1, applied=True
    )
    scrubbed = scrub(error, ("sk-secret", "tok"))
    assert "sk-secret" not in str(scrubbed) + repr(scrubbed) + str(scrubbed.args) + str(scrubbed.request_id)
    assert "answer '***' is bad" in str(scrubbed)


def test_str_names_the_three_outcomes() -> None:
    """The message says applied, not applied, or may have been applied, from `applied`."""
    said = {applied: str(APIConnectionError("m", attempts=1, applied=applied)) for applied in (True, False, None)}
    assert "the request was applied" in said[True]
    assert "the request was not applied" in said[False]
    assert "the request may have been applied" in said[None]
    assert [APIConnectionError("m", applied=a).may_have_been_applied for a in (True, False, None)] == [
        True,
        False,
        True,
    ]


@pytest.mark.parametrize(
    "timeout",
    [0, -1, float("nan"), float("inf"), 10**400, {"read": 1}],
    ids=["zero", "negative", "nan", "inf", "huge", "dict"],
)
def test_timeouts_every_phase_positive_and_finite(timeout: object) -> None:
    """0, negative, NaN, infinite and absurd timeouts are refused when the client is built, naming `timeout`."""
    import httpx2  # noqa: PLC0415

    from cxpa_sdk import Cxpa, CxpaError  # noqa: PLC0415

    with pytest.raises(CxpaError, match="timeout"):
        Cxpa(base_url="http://127.0.0.1:1", ingest_api_key="k", timeout=timeout)  # type: ignore[arg-type]
    for phase in ("connect", "read", "write", "pool"):
        phases = {"connect": 1.0, "read": 1.0, "write": 1.0, "pool": 1.0, phase: -1.0}
        with pytest.raises(InvalidArgumentError, match=f"timeout.{phase}"):
            Cxpa(base_url="http://127.0.0.1:1", ingest_api_key="k", timeout=httpx2.Timeout(**phases))
