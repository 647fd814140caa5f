"""`cxpa`: the client flags, errors that name flags, input that is not an object, and Ctrl-C during `wait`.

The client flags are those the library allows: --allow-insecure, --timeout, --deadline, --max-retries.
"""

import io
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from child_support import EXIT_TIMEOUT_S, START_TIMEOUT_S, Lines, child, python_module_with_sigint

from cxpa_sdk._cli._main import Exit, build_parser, run, wait_again
from cxpa_sdk._cli._output import Streams
from cxpa_sdk.testing import APPROVAL, ECHO, REPORT, SLOW, LocalPlatform, RuntimeCall


def cxpa(*argv: str) -> tuple[int, str, str]:
    """Run `cxpa` in-process with its own streams: (exit code, stdout, stderr)."""
    streams = Streams(io.StringIO(""), io.StringIO(), io.StringIO())
    code = run(list(argv), streams)
    return code, streams.stdout.getvalue(), streams.stderr.getvalue()


def on(platform: LocalPlatform) -> list[str]:
    """The flags that point `cxpa` at the platform."""
    return ["--base-url", platform.base_url, "--ingest-key", platform.ingest_key]


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CXPA_* setting in the environment."""
    for name in ("CXPA_API_URL", "CXPA_INGEST_KEY", "CXPA_AGENT_KEY", "CXPA_CREDENTIALS_TOKEN", "CXPA_RUN_ID"):
        monkeypatch.delenv(name, raising=False)


CALLING_COMMANDS = {
    "trigger": ["1"],
    "wait": ["1"],
    "download": [str(REPORT)],
    "get": ["1", "run_x"],
    "cancel": ["1", "run_x"],
    "register": ["1", "ext"],
    "ingest": ["5", "ext", "--status", "running"],
    "credential": ["conn_x", "--api-key", "a", "--credentials-token", "t"],
}


@pytest.mark.parametrize("command", CALLING_COMMANDS, ids=list(CALLING_COMMANDS))
def test_every_calling_command_takes_the_client_flags(command: str) -> None:
    """Every command that calls the platform parses --allow-insecure, --timeout, --deadline and --max-retries."""
    argv = [command, *CALLING_COMMANDS[command], "--allow-insecure", "--timeout", "7.5", "--deadline", "30"]
    args = build_parser().parse_args([*argv, "--max-retries", "0"])
    assert (args.allow_insecure, args.timeout, args.deadline, args.max_retries) == (True, 7.5, 30.0, 0)


@pytest.mark.usefixtures("bare_env")
@pytest.mark.parametrize("command", CALLING_COMMANDS, ids=list(CALLING_COMMANDS))
def test_plain_http_to_another_host_names_the_flag(command: str) -> None:
    """Plain http to another host is refused (exit 2) with advice a CLI user can follow: --allow-insecure."""
    code, out, err = cxpa(command, *CALLING_COMMANDS[command], "--base-url", "http://cxpa.invalid", "--ingest-key", "k")
    assert code == Exit.USAGE
    assert "pass --allow-insecure" in err
    assert "allow_insecure=True" not in err
    assert out == ""


def test_allow_insecure_lets_plain_http_through(cxpa_platform: LocalPlatform) -> None:
    """With --allow-insecure a plain http:// URL that is not loopback by name (0.0.0.0) is used, and the call works."""
    port = cxpa_platform.base_url.rsplit(":", 1)[1]
    target = ["--base-url", f"http://0.0.0.0:{port}", "--ingest-key", cxpa_platform.ingest_key]
    refused = cxpa("trigger", str(ECHO), *target)
    assert refused[0] == Exit.USAGE
    code, out, err = cxpa("trigger", str(ECHO), *target, "--allow-insecure")
    assert (code, err) == (Exit.OK, "")
    assert '"run_id": "run_' in out


def test_max_retries_reaches_the_client(cxpa_platform: LocalPlatform) -> None:
    """--max-retries 0 gives up at the first 503 (exit 4); the default retries it and succeeds."""
    run_id = cxpa("trigger", str(ECHO), *on(cxpa_platform))[1].split('"run_id": "')[1].split('"')[0]
    with cxpa_platform.faults.fail_next(1, status=503):
        code, _, err = cxpa("get", str(ECHO), run_id, *on(cxpa_platform), "--max-retries", "0")
    assert code == Exit.API_ERROR
    assert "HTTP 503" in err
    with cxpa_platform.faults.fail_next(1, status=503):
        code, out, _ = cxpa("get", str(ECHO), run_id, *on(cxpa_platform))
    assert code == Exit.OK
    assert run_id in out


@pytest.mark.parametrize("flag", ["--timeout", "--deadline"], ids=["timeout", "deadline"])
def test_timeout_and_deadline_reach_the_client(cxpa_platform: LocalPlatform, flag: str) -> None:
    """A 3 s slow answer fails fast with --timeout 0.5 or --deadline 0.5 (exit 4, a timeout); the defaults wait."""
    with cxpa_platform.faults.latency(3.0, count=1):
        started = time.monotonic()
        code, out, err = cxpa("get", str(ECHO), "run_x", *on(cxpa_platform), flag, "0.5", "--max-retries", "0")
        took = time.monotonic() - started
    assert code == Exit.API_ERROR
    assert "APITimeoutError" in err
    assert out == ""
    assert took < 2.5


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--timeout", "0"], "--timeout must be a positive number of seconds"),
        (["--timeout", "nan"], "--timeout must be a positive number of seconds"),
        (["--deadline", "-1"], "--deadline must be a positive number of seconds"),
        (["--max-retries", "-1"], "--max-retries must not be negative"),
    ],
    ids=["timeout-zero", "timeout-nan", "deadline-negative", "retries-negative"],
)
def test_bad_client_flags_are_usage_errors_naming_the_flag(flags: list[str], named: str) -> None:
    """A bad --timeout, --deadline or --max-retries is exit 2 naming the flag, before anything is sent."""
    code, out, err = cxpa("get", "1", "run_x", "--base-url", "http://127.0.0.1:9", "--ingest-key", "k", *flags)
    assert code == Exit.USAGE
    assert named in err
    assert out == ""


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("null", "null"),
        ("[1]", "an array"),
        ("3", "a number"),
        ("2.5", "a number"),
        ('"x"', "a string"),
        ("true", "a boolean"),
    ],
    ids=["null", "array", "int", "float", "string", "bool"],
)
@pytest.mark.parametrize("command", ["trigger", "wait", "download"])
def test_input_that_is_not_a_json_object(cxpa_platform: LocalPlatform, command: str, text: str, kind: str) -> None:
    """--input that is JSON but not an object is exit 2 saying it must be a JSON object, in JSON's words."""
    code, out, err = cxpa(command, str(ECHO), "--input", text, *on(cxpa_platform))
    assert code == Exit.USAGE
    assert err == f'cxpa: --input must be a JSON object, such as {{"topic": "Q3"}}, not {kind}\n'
    assert "NoneType" not in err
    assert out == ""


@pytest.mark.usefixtures("bare_env")
def test_nothing_configured_names_every_missing_flag() -> None:
    """With no flag and no environment, one error names --base-url and --ingest-key and both variables."""
    code, out, err = cxpa("trigger", "1")
    assert code == Exit.USAGE
    assert err == (
        "cxpa: --base-url and --ingest-key are required: pass --base-url ... and --ingest-key ..., "
        "or set CXPA_API_URL and CXPA_INGEST_KEY\n"
    )
    assert out == ""


@pytest.mark.usefixtures("bare_env")
def test_credential_names_every_missing_setting() -> None:
    """`cxpa credential` with nothing set names the URL, the agent key and the token in one error."""
    code, _, err = cxpa("credential", "conn_x")
    assert code == Exit.USAGE
    for name in ("--base-url", "--api-key", "--credentials-token", "CXPA_AGENT_KEY", "CXPA_CREDENTIALS_TOKEN"):
        assert name in err
    assert err.count("\n") == 1


def test_wait_that_started_the_run_and_timed_out_prints_where_it_stands(cxpa_platform: LocalPlatform) -> None:
    """`cxpa wait` (trigger, then wait) past --timeout-ms prints the run id and status as JSON; exit 3."""
    code, out, err = cxpa("wait", str(SLOW), "--input", '{"seconds": 30}', "--timeout-ms", "200", *on(cxpa_platform))
    assert (code, err) == (Exit.WAIT_TIMED_OUT, "")
    assert '"status": "running", "timed_out": true' in out
    run_id = out.split('"run_id": "')[1].split('"')[0]
    assert cxpa_platform.run(run_id)["input_data"] == {"seconds": 30}
    assert cxpa("cancel", str(SLOW), run_id, *on(cxpa_platform))[0] == Exit.OK


def test_wait_again_never_shows_the_key() -> None:
    """The command printed after Ctrl-C repeats the flags given, but never the ingest key."""
    argv = ["wait", "2", "--base-url", "http://cxpa.example:8080", "--ingest-key", "sk_secret_cli", "--timeout", "5"]
    args = build_parser().parse_args([*argv, "--max-retries", "1", "--allow-insecure", "--timeout-ms", "9000"])
    command = wait_again(args, "run_abc")
    assert "sk_secret_cli" not in command
    assert command == (
        "cxpa wait 2 --run-id run_abc --base-url http://cxpa.example:8080 --timeout 5 --max-retries 1 "
        "--timeout-ms 9000 --allow-insecure (and --ingest-key, not shown)"
    )
    assert wait_again(build_parser().parse_args(["wait", "2"]), "run_abc") == "cxpa wait 2 --run-id run_abc"


def test_ctrl_c_during_wait_names_the_run_and_how_to_wait_again(
    cxpa_platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C after `cxpa wait` triggered: stderr names the run and the command to wait again; exit 130."""
    env = {
        **os.environ,
        "CXPA_API_URL": cxpa_platform.base_url,
        "CXPA_INGEST_KEY": cxpa_platform.ingest_key,
        "CXPA_LOG": "debug",  # the SDK's log shows when the wait (a run read) has started
    }
    command = python_module_with_sigint("cxpa_sdk", "wait", str(SLOW), "--input", '{"seconds": 120}')
    with child(command, what="`cxpa wait`", stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as waiting:
        assert waiting.process.stderr is not None
        log = Lines(waiting.process.stderr, "`cxpa wait`'s stderr")
        while "get_run GET" not in log.next(START_TIMEOUT_S, "the log line of its first run read"):
            pass
        waiting.process.send_signal(signal.SIGINT)
        code = waiting.wait(EXIT_TIMEOUT_S, since="SIGINT")
        err = log.rest(EXIT_TIMEOUT_S)
        assert waiting.process.stdout is not None
        out = waiting.process.stdout.read()
    assert code == Exit.INTERRUPTED == 130
    assert out == ""
    assert "Traceback" not in err
    assert cxpa_platform.ingest_key not in log.text
    lines = err.splitlines()[-3:]
    assert lines[0].startswith("cxpa: interrupted; run run_")
    assert lines[0].endswith(" is still running. Wait for it again with:")
    run_id = lines[0].split()[3]
    assert cxpa_platform.run(run_id)["status"] == "running"
    assert lines[1] == f"  cxpa wait {SLOW} --run-id {run_id}"
    assert lines[2] == f"or cancel it with: cxpa cancel {SLOW} {run_id}"
    # The printed commands work as printed (the key and URL come from the environment, as in the child).
    monkeypatch.setenv("CXPA_API_URL", cxpa_platform.base_url)
    monkeypatch.setenv("CXPA_INGEST_KEY", cxpa_platform.ingest_key)
    assert cxpa(*shlex.split(lines[2].removeprefix("or cancel it with: "))[1:])[0] == Exit.OK
    code, out, _ = cxpa(*shlex.split(lines[1])[1:])
    assert code == Exit.RUN_FAILED
    assert f'"run_id": "{run_id}"' in out
    assert '"status": "cancelled"' in out


def test_ctrl_c_before_a_run_exists_says_only_interrupted(cxpa_platform: LocalPlatform) -> None:
    """Ctrl-C while nothing was triggered yet (a plain `cxpa get`) keeps the one line `cxpa: interrupted`."""
    env = {**os.environ, "CXPA_API_URL": cxpa_platform.base_url, "CXPA_INGEST_KEY": cxpa_platform.ingest_key}
    run_id = cxpa("trigger", str(APPROVAL), *on(cxpa_platform))[1].split('"run_id": "')[1].split('"')[0]
    env["CXPA_LOG"] = "debug"
    with cxpa_platform.faults.latency(60.0, count=1):
        command = python_module_with_sigint("cxpa_sdk", "get", str(APPROVAL), run_id)
        with child(command, what="`cxpa get`", stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as getting:
            assert getting.process.stderr is not None
            log = Lines(getting.process.stderr, "`cxpa get`'s stderr")
            while "get_run GET" not in log.next(START_TIMEOUT_S, "the log line of its request"):
                pass
            getting.process.send_signal(signal.SIGINT)
            code = getting.wait(EXIT_TIMEOUT_S, since="SIGINT")
            err = log.rest(EXIT_TIMEOUT_S)
    assert code == Exit.INTERRUPTED
    assert err.splitlines()[-1] == "cxpa: interrupted"
    assert cxpa("cancel", str(APPROVAL), run_id, *on(cxpa_platform))[0] == Exit.OK


def _interrupt_download(
    platform: LocalPlatform, agent_id: int, tmp_path: Path, streaming: threading.Event | None = None
) -> tuple[int, str]:
    """Run `cxpa download` in a child; SIGINT once its request is sent (and `streaming` is set); (exit code, stderr)."""
    env = {
        **os.environ,
        "CXPA_API_URL": platform.base_url,
        "CXPA_INGEST_KEY": platform.ingest_key,
        "CXPA_LOG": "debug",
    }
    command = python_module_with_sigint("cxpa_sdk", "download", str(agent_id), "--input", "{}", "-o", str(tmp_path))
    with child(command, what="`cxpa download`", stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as loading:
        assert loading.process.stderr is not None
        log = Lines(loading.process.stderr, "`cxpa download`'s stderr")
        while "trigger_run_and_download POST" not in log.next(START_TIMEOUT_S, "the log line of its request"):
            pass
        assert streaming is None or streaming.wait(START_TIMEOUT_S), "the file never streamed"
        loading.process.send_signal(signal.SIGINT)
        code = loading.wait(EXIT_TIMEOUT_S, since="SIGINT")
        err = log.rest(EXIT_TIMEOUT_S)
    assert "Traceback" not in err
    assert platform.ingest_key not in log.text
    return code, err


def test_ctrl_c_during_download_names_the_run_and_saves_nothing(cxpa_platform: LocalPlatform, tmp_path: Path) -> None:
    """Ctrl-C while the file streams: stderr names the run and how to see it, nothing is left; exit 130."""
    streaming = threading.Event()

    def dripping(call: RuntimeCall) -> Iterator[bytes]:
        for sent in range(600):  # at most 60 s; the test interrupts it within a few
            yield b"x" * 1024
            if sent == 3:  # the answer's head and three pieces have gone to the CLI
                streaming.set()
            time.sleep(0.1)

    agent = cxpa_platform.add_agent("cli-download-interrupted", dripping, output_kind="file_download")
    code, err = _interrupt_download(cxpa_platform, agent.id, tmp_path, streaming)
    assert code == Exit.INTERRUPTED == 130
    last = err.splitlines()[-1]
    assert last.startswith("cxpa: interrupted; the download of run run_")
    run_id = last.split()[6]
    assert last.endswith(f"see where the run stands with: cxpa get {agent.id} {run_id}")
    assert [run["id"] for run in cxpa_platform.runs(agent.id)] == [run_id]
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_before_the_download_answers_says_nothing_was_saved(
    cxpa_platform: LocalPlatform, tmp_path: Path
) -> None:
    """Ctrl-C before the platform's answer: one line saying nothing was saved and no run id was known yet."""
    with cxpa_platform.faults.latency(60.0, count=1):
        code, err = _interrupt_download(cxpa_platform, REPORT, tmp_path)
    assert code == Exit.INTERRUPTED
    assert err.splitlines()[-1] == (
        "cxpa: interrupted before the platform sent the file; nothing was saved (the run's id was not known yet)"
    )
    assert list(tmp_path.iterdir()) == []
