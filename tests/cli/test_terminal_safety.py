"""`cxpa` prints what the platform sends without letting it steer the terminal (issue 23, defect 7; CWE-150).

Every string from outside (ids, statuses, messages, codes, request ids, outputs, filenames, credential
names) may carry ESC, OSC, CSI, CR, NUL, DEL, C1 controls, separators and bidirectional overrides;
the command shows each as a visible escape, keeps one line per item and one line per error, and
keeps its JSON output the same data.
"""

import io
import json
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hostile.hostile_server import (
    FILE_HEADERS,
    HostileServer,
    Request,
    envelope,
    json_response,
    response,
    run_row,
    send,
)
from hypothesis import given
from hypothesis import strategies as st

from cxpa_sdk._cli._main import run
from cxpa_sdk._cli._output import Streams, _PlainBar, emit, json_line, printable, table

# What a terminal obeys or reorders: C0 (newline among them), DEL, C1, the separators, the bidi controls.
STEERING = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# A retitled window, a cleared screen, a fake green "run completed" over the line, a NUL, a right-to-left
# override and an isolate, a C1 CSI, DEL, a new line and a line separator.
HOSTILE = "\x1b]0;owned\x07\x1b[2J\x1b[32mrun completed\x1b[0m\rX\x00\u202egnp.exe\u2066\x9b31m\x7f\nfake line\u2028end"
SHOWN = "\\x1b]0;owned\\x07\\x1b[2J"  # how the start of HOSTILE reads once neutralised
PYTHON_RUN_TIMEOUT_S = 120


def steering(text: str) -> list[str]:
    """The steering characters of printed text, its line ends aside."""
    return STEERING.findall(text.removesuffix("\n").replace("\n", ""))


def lines_of(text: str) -> list[str]:
    """Printed text as lines; every line ends with a newline."""
    assert text == "" or text.endswith("\n"), text
    return text.removesuffix("\n").split("\n") if text else []


# -- the rule itself -------------------------------------------------------------------------------

outside_text = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(STEERING.pattern[1:-1])))


@given(outside_text)
def test_printable_leaves_no_steering_character_and_one_line(text: str) -> None:
    """Any text comes out printable: no control, separator or bidi character, and a single line."""
    shown = printable(text)
    assert steering(shown + "\n") == []
    assert len(shown.splitlines()) <= 1


json_data = st.recursive(
    st.none() | st.booleans() | st.integers() | outside_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(outside_text, inner, max_size=4),
)


@given(json_data)
def test_json_line_is_the_same_data_on_one_safe_line(data: Any) -> None:
    """JSON output is one line with no steering character, and decodes to exactly the data sent."""
    line = json_line(data)
    assert steering(line) == []
    assert "\n" not in line
    assert json.loads(line) == data


@given(st.dictionaries(st.from_regex(r"[a-z_]{1,12}", fullmatch=True), outside_text, min_size=1, max_size=6))
def test_text_output_is_one_safe_line_per_item(row: dict[str, str]) -> None:
    """`--format text` prints one line per item, however many new lines or escapes the values hold."""
    streams = Streams(io.StringIO(), io.StringIO(), io.StringIO())
    emit(row, streams, "text")
    printed = lines_of(streams.stdout.getvalue())
    assert [line.split("  ")[0].strip() for line in printed] == list(row)
    assert steering(streams.stdout.getvalue()) == []


# -- end to end, in-process, with whatever the platform says -----------------------------------------


class Platform:
    """A hostile platform that answers every request with `answer`, which a test sets."""

    def __init__(self) -> None:
        self.answer = json_response(200, run_row("completed"))
        self.base_url = ""

    def __call__(self, request: Request) -> bytes:
        """The answer a test set."""
        return self.answer


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    """A hostile platform shared by the examples of the tests (one server, its answer set per example)."""
    answers = Platform()
    with HostileServer(send(answers, keep_alive=True)) as server:
        answers.base_url = server.base_url
        yield answers


def cxpa_on(platform: Platform, *argv: str) -> tuple[int, str, str]:
    """Run `cxpa` in-process against the hostile platform: (exit code, stdout, stderr)."""
    streams = Streams(io.StringIO(), io.StringIO(), io.StringIO())
    target = ["--base-url", platform.base_url, "--ingest-key", "k", "--max-retries", "0"]
    code = run([*argv, *target], streams)
    return code, streams.stdout.getvalue(), streams.stderr.getvalue()


@given(message=outside_text)
def test_any_error_message_is_one_safe_line(platform: Platform, message: str) -> None:
    """Whatever error message the platform sends, the error is exactly one line with no steering character."""
    platform.answer = json_response(409, envelope("run_finished", message))
    code, out, err = cxpa_on(platform, "get", "1", "run_1")
    assert (code, out) == (4, "")
    assert len(lines_of(err)) == 1
    assert steering(err) == []


@given(value=outside_text)
def test_any_output_value_in_text_is_one_safe_line_per_field(platform: Platform, value: str) -> None:
    """Whatever a run's output and external id hold, text output has one line per field, none steering."""
    platform.answer = json_response(
        200, {**run_row("completed"), "output_data": {value: value}, "external_run_id": value}
    )
    code, out, _ = cxpa_on(platform, "get", "1", "run_1", "--format", "text")
    _, as_json, _ = cxpa_on(platform, "get", "1", "run_1")
    assert code == 0
    assert [line.split(" ")[0] for line in lines_of(out)] == list(json.loads(as_json))
    assert steering(out) == []
    assert json.loads(as_json)["output_data"] == {value: value}


# -- as a user meets it: the real command against a raw-socket platform ---------------------------------


def _wait_answer(request: Request) -> bytes:
    """A platform without the events endpoint whose run failed with HOSTILE as its error message."""
    if request.path.endswith("/events"):
        return json_response(404, envelope("not_found", "no such path"))
    return json_response(200, {**run_row("failed"), "error": {"message": HOSTILE, "name": HOSTILE}})


FILENAME = "attachment; filename*=UTF-8''" + urllib.parse.quote(HOSTILE + ".pdf", safe="")
CREDENTIAL = {"connectionId": "conn_1", "type": HOSTILE, "values": {HOSTILE: "v"}, "expiresAt": None}
CASES: dict[str, tuple[list[str], bytes | Callable[[Request], bytes], int, bool]] = {
    # name: (argv, the platform's answer, exit code, whether HOSTILE reaches the output, escaped)
    "error-message": (["get", "1", "run_1"], json_response(409, envelope("run_finished", HOSTILE)), 4, True),
    "error-code": (["get", "1", "run_1"], json_response(409, envelope(HOSTILE)), 4, False),
    "request-id": (
        ["get", "1", "run_1"],
        json_response(404, envelope("run_not_found"), {"X-Request-Id": "req_\x1b]0;owned\x07\x1b[2J\u202e"}),
        4,
        False,  # control characters: no request id at all (`answer_request_id`), so none is shown
    ),
    "status": (["get", "1", "run_1"], json_response(200, run_row(HOSTILE)), 4, False),
    "run-id": (["trigger", "1"], json_response(202, {"runId": HOSTILE, "status": "queued"}), 4, False),
    "external-run-id": (
        ["get", "1", "run_1"],
        json_response(200, {**run_row("completed"), "external_run_id": HOSTILE}),
        0,
        True,
    ),
    "output-json-in-text": (
        ["get", "1", "run_1"],
        json_response(200, {**run_row("completed"), "output_data": {HOSTILE: [HOSTILE]}}),
        0,
        False,  # nested values print as JSON: ESC shows as \u001b there
    ),
    "failed-run-error": (["wait", "1", "--run-id", "run_1"], _wait_answer, 1, False),
    "credential-names": (
        ["credential", "conn_1", "--api-key", "a", "--credentials-token", "t"],
        json_response(200, CREDENTIAL),
        0,
        True,
    ),
    "filename": (
        ["download", "4"],
        response(200, b"%PDF", {**FILE_HEADERS, "Content-Disposition": FILENAME}),
        0,
        False,
    ),
}


def cxpa_child(argv: list[str], base_url: str, fmt: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """`python -m cxpa_sdk ARGV --format FMT` against a platform, as a user runs it; raw bytes out."""
    return subprocess.run(
        [sys.executable, "-m", "cxpa_sdk", *argv, "--base-url", base_url, "--ingest-key", "k", "--format", fmt],
        capture_output=True,
        timeout=PYTHON_RUN_TIMEOUT_S,
        check=False,
        cwd=cwd,
    )


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_the_command_never_prints_the_platforms_control_characters(case: str, tmp_path: Path) -> None:
    """Each string of an answer reaches the terminal escaped: no control byte, one line per item or per error."""
    argv, answer, code, shown = CASES[case]
    with HostileServer(send(answer)) as server:
        text = cxpa_child(argv, server.base_url, "text", tmp_path)
        as_json = cxpa_child(argv, server.base_url, "json", tmp_path)
    out, err = text.stdout.decode(), text.stderr.decode()
    assert (text.returncode, as_json.returncode) == (code, code), err
    assert steering(out) == steering(err) == []
    assert steering(as_json.stdout.decode()) == steering(as_json.stderr.decode()) == []
    if as_json.stdout:  # a result: one text line per item of the JSON
        data = json.loads(as_json.stdout)
        assert [line.split(" ")[0] for line in lines_of(out)] == list(data)
        assert err == ""
    else:  # an error: one line
        assert len(lines_of(err)) == 1
        assert err.startswith("cxpa: ")
    if shown:
        assert SHOWN in out + err


def test_json_output_keeps_the_platforms_text_intact(tmp_path: Path) -> None:
    r"""JSON output escapes C1 and bidirectional controls as \uXXXX, so `jq` reads back exactly what was sent."""
    answer = json_response(200, {**run_row("completed"), "output_data": {"k": HOSTILE}, "external_run_id": HOSTILE})
    with HostileServer(send(answer)) as server:
        done = cxpa_child(["get", "1", "run_1"], server.base_url, "json", tmp_path)
    assert done.returncode == 0
    assert b"\xc2\x9b" not in done.stdout  # C1 CSI, as UTF-8
    assert b"\xe2\x80\xae" not in done.stdout  # U+202E, as UTF-8
    data = json.loads(done.stdout)
    assert (data["output_data"], data["external_run_id"]) == ({"k": HOSTILE}, HOSTILE)


# -- the other ways text reaches the terminal: tables and the plain progress bar ----------------------


@pytest.mark.parametrize("rich", [True, False], ids=["rich", "plain"])
def test_table_cells_cannot_steer_the_terminal(rich: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """A table (the demo's) shows a cell's escapes and rich markup as text, on rich and on the plain fallback."""
    if not rich:
        monkeypatch.setitem(sys.modules, "rich.table", None)  # the import fails: the plain table
    streams = Streams(io.StringIO(), io.StringIO(), io.StringIO())
    table([["step", "[bold red]FAILED[/bold red]" + HOSTILE]], ["name", "detail"], streams)
    printed = streams.stdout.getvalue()
    assert steering(printed) == []
    assert "[bold red]FAILED" in printed
    if not rich:
        assert len(lines_of(printed)) == 2


def test_plain_progress_bar_shows_the_filename_escaped() -> None:
    r"""The plain progress bar's label (the server's filename) cannot steer the terminal; only its own \r redraws."""
    stream = io.StringIO()
    bar = _PlainBar(stream, HOSTILE)
    bar.update(5, 10)
    bar.close()
    drawn = stream.getvalue()
    assert drawn.startswith("\r")
    assert steering(drawn[1:]) == []
    assert SHOWN in drawn
