"""The `cxpa` command: every subcommand, its exit codes, bad input, JSON on stdout, and the demo."""

import io
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from child_support import EXIT_TIMEOUT_S, START_TIMEOUT_S, child, python_module_with_sigint
from hostile.hostile_server import FILE_HEADERS, HostileServer, response, send

from cxpa_sdk._cli._main import Exit, build_parser, run
from cxpa_sdk._cli._output import Streams
from cxpa_sdk.testing import APPROVAL, ECHO, FAIL, REPORT, SLOW, STANDALONE, LocalPlatform


class Result:
    """What one `cxpa` run printed and returned."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    @property
    def json(self) -> dict:
        """stdout, parsed: exactly one JSON document."""
        return json.loads(self.out)


def cxpa(*argv: str, stdin: str = "", platform: LocalPlatform | None = None) -> Result:
    """Run `cxpa` in-process against the platform, with its own streams."""
    streams = Streams(io.StringIO(stdin), io.StringIO(), io.StringIO())
    target = [] if platform is None else ["--base-url", platform.base_url, "--ingest-key", platform.ingest_key]
    command, rest = argv[0], list(argv[1:])
    code = run([command, *target, *rest] if platform and command not in ("demo", "dev-server") else list(argv), streams)
    return Result(code, streams.stdout.getvalue(), streams.stderr.getvalue())


def test_trigger(cxpa_platform: LocalPlatform) -> None:
    """`cxpa trigger` prints the run id and status as JSON; exit 0."""
    result = cxpa("trigger", str(ECHO), "--input", '{"a": 1}', platform=cxpa_platform)
    assert result.code == 0
    assert result.json["run_id"].startswith("run_")
    assert cxpa_platform.run(result.json["run_id"])["input_data"] == {"a": 1}


def test_input_from_file_and_stdin(cxpa_platform: LocalPlatform, tmp_path: Path) -> None:
    """--input takes @file and - (stdin)."""
    (tmp_path / "in.json").write_text('{"from": "file"}')
    by_file = cxpa("wait", str(ECHO), "--input", f"@{tmp_path / 'in.json'}", platform=cxpa_platform)
    by_stdin = cxpa("wait", str(ECHO), "--input", "-", stdin='{"from": "stdin"}', platform=cxpa_platform)
    assert by_file.json["output_data"] == {"from": "file"}
    assert by_stdin.json["output_data"] == {"from": "stdin"}


@pytest.mark.parametrize(
    ("agent", "args", "code", "status"),
    [(ECHO, [], 0, "completed"), (FAIL, [], 1, "failed"), (SLOW, ["--timeout-ms", "200"], 3, "running")],
    ids=["completed-0", "failed-1", "timed-out-3"],
)
def test_wait_exit_codes(cxpa_platform: LocalPlatform, agent: int, args: list[str], code: int, status: str) -> None:
    """`cxpa wait`: 0 completed, 1 failed, 3 timed out, with the result as JSON."""
    result = cxpa("wait", str(agent), "--input", '{"seconds": 5}', *args, platform=cxpa_platform)
    assert result.code == code
    assert result.json["status"] == status


def test_wait_for_existing_run_get_and_cancel(cxpa_platform: LocalPlatform) -> None:
    """`cxpa wait --run-id`, `cxpa get` and `cxpa cancel` act on an existing run."""
    run_id = cxpa("trigger", str(SLOW), "--input", '{"seconds": 0.2}', platform=cxpa_platform).json["run_id"]
    assert cxpa("get", str(SLOW), run_id, platform=cxpa_platform).json["run_id"] == run_id
    assert cxpa("wait", str(SLOW), "--run-id", run_id, platform=cxpa_platform).json["status"] == "completed"
    long_id = cxpa("trigger", str(APPROVAL), platform=cxpa_platform).json["run_id"]
    assert cxpa("cancel", str(APPROVAL), long_id, platform=cxpa_platform).json["status"] == "cancelled"
    again = cxpa("cancel", str(APPROVAL), long_id, platform=cxpa_platform)
    assert again.code == 4
    assert again.err.startswith("cxpa: run_finished: ")
    assert "request req_" in again.err
    assert again.out == ""


def test_download_to_a_folder(cxpa_platform: LocalPlatform, tmp_path: Path) -> None:
    """`cxpa download -o DIR` saves the file under its server name; no progress bar off a terminal."""
    result = cxpa(
        "download", str(REPORT), "--input", '{"sizeBytes": 4096}', "-o", str(tmp_path), platform=cxpa_platform
    )
    assert result.code == 0
    assert result.json["path"] == str(tmp_path / "report.pdf")
    assert result.json["bytes"] == 4096
    assert result.err == ""


def test_download_to_a_new_folder_with_a_trailing_separator(cxpa_platform: LocalPlatform, tmp_path: Path) -> None:
    """`cxpa download -o reports/` (the README's example, on a fresh checkout) creates the folder and saves into it."""
    folder = tmp_path / "reports"
    argv = ("download", str(REPORT), "--input", '{"sizeBytes": 100}', "-o", f"{folder}{os.sep}")
    result = cxpa(*argv, platform=cxpa_platform)
    assert result.code == 0
    assert result.json["path"] == str(folder / "report.pdf")
    assert folder.is_dir()


def test_download_fsync_syncs_before_the_file_appears(
    cxpa_platform: LocalPlatform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cxpa download --fsync` syncs the file (then its folder) to disk; without the flag nothing is synced."""
    calls: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real_fsync(fd))[1])
    argv = ("download", str(REPORT), "--input", '{"sizeBytes": 4096}', "-o", str(tmp_path / "a.pdf"))
    assert cxpa(*argv, platform=cxpa_platform).code == 0
    assert calls == []
    synced = cxpa(*argv[:-1], str(tmp_path / "b.pdf"), "--fsync", platform=cxpa_platform)
    assert synced.code == 0
    assert synced.json["bytes"] == 4096
    assert len(calls) == 2
    assert sorted(os.listdir(tmp_path)) == ["a.pdf", "b.pdf"]


def test_register_ingest_and_credential(cxpa_platform: LocalPlatform) -> None:
    """The register and credential commands hide the token and the values unless --show-secrets."""
    hidden_token = cxpa("register", str(ECHO), "cli-ext-1", platform=cxpa_platform).json
    assert hidden_token["credentials_token"] == "***"
    registered = cxpa("register", str(ECHO), "cli-ext-1", "--show-secrets", platform=cxpa_platform).json
    ingested = cxpa(
        "ingest",
        str(STANDALONE),
        "cli-exec-1",
        "--status",
        "completed",
        "--output",
        '{"p": 1}',
        "--outputs",
        "1",
        platform=cxpa_platform,
    )
    assert ingested.json["status"] == "completed"
    base = [
        "--api-key",
        cxpa_platform.agent_api_key(ECHO),
        "--credentials-token",
        registered["credentials_token"],
        "--run-id",
        registered["run_id"],
    ]
    hidden = cxpa("credential", "conn_demo", *base, platform=cxpa_platform)
    shown = cxpa("credential", "conn_demo", *base, "--show-secrets", platform=cxpa_platform)
    assert hidden.json["values"] == {"apiKey": "***"}
    assert "cxpa-demo-secret" not in hidden.out + hidden.err
    assert shown.json["values"] == {"apiKey": "cxpa-demo-secret"}


def test_text_format(cxpa_platform: LocalPlatform) -> None:
    """--format text prints `key value` lines for people."""
    result = cxpa("wait", str(ECHO), "--input", '{"a": 1}', "--format", "text", platform=cxpa_platform)
    assert result.code == 0
    assert "status" in result.out
    assert "completed" in result.out


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["trigger", "1", "--input", '{"a": '], 2, "--input: invalid JSON at line 1 column 7"),
        (["trigger", "1", "--input", "@/nonexistent.json"], 2, "can't read /nonexistent.json"),
        (["trigger", "0"], 2, "agent_id must be a positive integer"),
        (["trigger", "999999"], 4, "agent_not_found"),
        (["ingest", "5", "x", "--status", "done"], 2, "status must be one of"),
        (["trigger", "1", "--input", "[" * 100_000], 2, "--input: the JSON is nested too deeply"),
        (["trigger", "1", "--input", '{"a": ' * 100_000 + "1" + "}" * 100_000], 2, "nested too deeply"),
    ],
    ids=["bad-json", "missing-file", "bad-agent-id", "unknown-agent", "bad-status", "deep-json", "deep-object"],
)
def test_bad_input(cxpa_platform: LocalPlatform, argv: list[str], code: int, message: str) -> None:
    """Bad input: one line on stderr with the problem, the documented exit code, nothing on stdout."""
    result = cxpa(*argv, platform=cxpa_platform)
    assert result.code == code
    assert message in result.err
    assert result.err.count("\n") == 1
    assert "Traceback" not in result.err
    assert result.out == ""


def test_missing_key_and_unreachable_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key: exit 2 naming CXPA_INGEST_KEY. Nobody listening: exit 4."""
    monkeypatch.delenv("CXPA_INGEST_KEY", raising=False)
    missing = cxpa("trigger", "1", "--base-url", "http://127.0.0.1:9")
    assert missing.code == 2
    assert "CXPA_INGEST_KEY" in missing.err
    unreachable = cxpa("trigger", "1", "--base-url", "http://127.0.0.1:9", "--ingest-key", "k")
    assert unreachable.code == 4
    assert "APIConnectionError" in unreachable.err


def test_usage_error_is_exit_2() -> None:
    """An unknown subcommand or option is exit 2 (argparse)."""
    assert cxpa("frobnicate").code == 2


def test_demo_runs_every_step(tmp_path: Path) -> None:
    """`cxpa demo` walks through the six seed operations over real HTTP and exits 0."""
    result = cxpa("demo", "--output-dir", str(tmp_path / "demo"))
    assert result.code == 0, result.out
    for step in (
        "trigger_run",
        "trigger_run_and_wait",
        "trigger_run_and_download",
        "register_run",
        "ingest_run",
        "agent runtime",
    ):
        assert step in result.out
    assert "all steps passed" in result.out
    assert (tmp_path / "demo" / "q3-report.pdf").stat().st_size == 8 << 20
    assert f"the downloaded file is kept in {tmp_path / 'demo'}" in result.out


def test_demo_without_an_output_dir_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --output-dir the file goes to a temporary folder, removed at the end; the demo says where it was."""
    monkeypatch.chdir(tmp_path)
    result = cxpa("demo")
    assert result.code == 0, result.out
    said = re.search(r"the downloaded file was saved in (\S+) and removed with it", result.out)
    assert said, result.out
    assert not Path(said[1]).exists()
    assert list(tmp_path.iterdir()) == []


BLOCK_EXTRAS = (
    "import sys\n"
    "class Block:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] in ('rich', 'starlette', 'uvicorn'):\n"
    "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
    "sys.meta_path.insert(0, Block())\n"
)


@pytest.mark.parametrize("entry", ["cxpa_sdk._cli._main", "cxpa_sdk"], ids=["cxpa", "python-m-cxpa_sdk"])
def test_help_works_without_the_extras(entry: str) -> None:
    """`cxpa --help` and `python -m cxpa_sdk --help` work when rich, Starlette and uvicorn are absent."""
    code = (
        BLOCK_EXTRAS + f"import runpy; sys.argv = ['cxpa', '--help']; runpy.run_module({entry!r}, run_name='__main__')"
    )
    if entry == "cxpa_sdk._cli._main":
        code = BLOCK_EXTRAS + "from cxpa_sdk._cli._main import run; sys.exit(run(['--help']))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "Exit codes: 0 success" in done.stdout


def test_demo_without_the_testing_extra_says_what_to_install() -> None:
    """Without the testing extra, `cxpa demo` exits 2 naming the extra."""
    code = BLOCK_EXTRAS + "from cxpa_sdk._cli._main import run; sys.exit(run(['demo']))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "pip install 'cxpa-sdk[testing]'" in done.stderr


def test_another_missing_module_is_not_blamed_on_the_extra() -> None:
    """A missing module that no extra provides (a broken install) ends with its traceback, not an install hint."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'cxpa_sdk._cli._demo':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from cxpa_sdk._cli._main import run; sys.exit(run(['demo']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "Traceback" in done.stderr
    assert "No module named 'cxpa_sdk._cli._demo'" in done.stderr
    assert "pip install" not in done.stderr


# A 3 MB download from the local platform takes about a second; the bound is for a loaded machine.
TERMINAL_TIMEOUT_S = 120.0


def read_terminal(primary: int, timeout_s: float) -> bytes:
    """What a child writes to a pseudo-terminal until it closes it; fails the test after `timeout_s`.

    A progress bar redraws itself while it waits, so a stuck child never goes quiet: one deadline
    bounds the whole read, not each chunk.
    """
    terminal = b""
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([primary], [], [], left)
        if not ready:
            break
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # EIO: every writer closed the terminal
            return terminal
        if not chunk:
            return terminal
        terminal += chunk
    pytest.fail(f"the terminal was not closed within {timeout_s:.0f} s; its last bytes: {terminal[-300:]!r}")


def test_progress_bar_only_on_a_terminal(cxpa_platform: LocalPlatform, tmp_path: Path) -> None:
    """On a terminal stderr shows a progress bar; stdout still carries exactly one JSON document."""
    primary, secondary = pty.openpty()
    env = {
        **os.environ,
        "CXPA_API_URL": cxpa_platform.base_url,
        "CXPA_INGEST_KEY": cxpa_platform.ingest_key,
        "COLUMNS": "100",
    }
    command = [sys.executable, "-m", "cxpa_sdk", "download", str(REPORT), "--input", '{"sizeBytes": 3000000}']
    try:
        with child(
            [*command, "-o", str(tmp_path)],
            what="`cxpa download` on a terminal",
            stdout=subprocess.PIPE,
            stderr=secondary,
            env=env,
        ) as download:
            os.close(secondary)
            secondary = -1
            terminal = read_terminal(primary, TERMINAL_TIMEOUT_S)
            out, _ = download.communicate(EXIT_TIMEOUT_S)
    finally:
        os.close(primary)
        if secondary != -1:
            os.close(secondary)
    assert download.process.returncode == 0
    assert json.loads(out)["bytes"] == 3_000_000
    assert b"MB" in terminal or b"MiB" in terminal


def test_dev_server_serves_until_interrupted() -> None:
    """`cxpa dev-server` prints the URL, the key and the agents, and stops cleanly on Ctrl-C."""
    # `python -m cxpa_sdk dev-server`, with SIGINT handled even when this test inherited it ignored
    # (a background job of a shell): Ctrl-C is what the dev server answers to.
    command = python_module_with_sigint("cxpa_sdk", "dev-server", "--port", "0", "--ingest-key", "k-dev")
    with child(command, what="`cxpa dev-server`", lines=True) as server:
        banner = server.lines.until("Ctrl-C stops it.\n", START_TIMEOUT_S)  # the banner's end: it is serving
        server.process.send_signal(signal.SIGINT)
        code = server.wait(EXIT_TIMEOUT_S, since="SIGINT")
        rest = server.lines.rest(EXIT_TIMEOUT_S)
    assert banner[0].startswith("CXPA local platform at http://127.0.0.1:")
    assert banner[1] == "ingest key: k-dev\n"
    assert any("echo" in line for line in banner[2:])
    assert rest == "stopped\n"
    assert code == 0


def test_dev_server_stops_cleanly_on_sigterm() -> None:
    """`cxpa dev-server` started as a background job (SIGINT ignored) stops cleanly on SIGTERM, as `kill` sends."""
    command = [sys.executable, "-m", "cxpa_sdk", "dev-server", "--port", "0"]
    with child(command, what="`cxpa dev-server`", lines=True) as server:
        server.lines.until("Ctrl-C stops it.\n", START_TIMEOUT_S)
        server.process.send_signal(signal.SIGTERM)
        code = server.wait(EXIT_TIMEOUT_S, since="SIGTERM")
        rest = server.lines.rest(EXIT_TIMEOUT_S)
    assert rest == "stopped\n"
    assert code == 0


def test_download_to_a_folder_that_cannot_take_it(cxpa_platform: LocalPlatform, tmp_path: Path) -> None:
    """A local file error is one line naming the run and the path, exit 5, and nothing is left behind."""
    (tmp_path / "plain").write_bytes(b"x")
    target = tmp_path / "plain" / "r.pdf"
    result = cxpa("download", str(REPORT), "--input", '{"sizeBytes": 100}', "-o", str(target), platform=cxpa_platform)
    assert result.code == 5
    assert result.err.startswith("cxpa: local_file_error: run run_")
    assert str(target) in result.err
    assert result.err.count("\n") == 1
    assert "Traceback" not in result.err
    assert os.listdir(tmp_path) == ["plain"]


def test_download_overwrite_flag(cxpa_platform: LocalPlatform, tmp_path: Path) -> None:
    """`cxpa download -o DIR` keeps an existing file of the server's name; `--overwrite` replaces it."""
    (tmp_path / "report.pdf").write_bytes(b"mine")
    argv = ("download", str(REPORT), "--input", '{"sizeBytes": 100}', "-o", str(tmp_path))
    kept = cxpa(*argv, platform=cxpa_platform)
    assert kept.json["path"] == str(tmp_path / "report (1).pdf")
    assert (tmp_path / "report.pdf").read_bytes() == b"mine"
    replaced = cxpa(*argv, "--overwrite", platform=cxpa_platform)
    assert replaced.json["path"] == str(tmp_path / "report.pdf")
    assert (tmp_path / "report.pdf").stat().st_size == 100


def test_download_max_bytes_refuses_a_larger_file(cxpa_platform: LocalPlatform, tmp_path: Path) -> None:
    """`--max-bytes` under the file's size: one line naming the run and the limit, exit 5, no file."""
    argv = ("download", str(REPORT), "--input", '{"sizeBytes": 5000}', "-o", str(tmp_path))
    refused = cxpa(*argv, "--max-bytes", "4999", platform=cxpa_platform)
    assert refused.code == 5
    assert refused.err.startswith("cxpa: download_too_large: download of run run_")
    assert "over the max_bytes of 4999" in refused.err
    assert refused.err.count("\n") == 1
    assert os.listdir(tmp_path) == []
    taken = cxpa(*argv, "--max-bytes", "5000", platform=cxpa_platform)
    assert taken.code == 0
    assert taken.json["bytes"] == 5000


def test_download_of_a_close_delimited_file_needs_the_flag(tmp_path: Path) -> None:
    """A file nothing proves whole is refused (exit 4, nothing saved) unless --allow-close-delimited."""
    answer = response(200, b"x" * 5000, FILE_HEADERS, length=False)
    argv = ("download", "4", "--base-url", "", "--ingest-key", "k", "-o", str(tmp_path))
    with HostileServer(send(answer)) as server:
        target = [a if a else server.base_url for a in argv]
        refused = cxpa(*target)
        taken = cxpa(*target, "--allow-close-delimited")
    assert refused.code == 4
    assert "nothing proves the file whole" in refused.err
    assert taken.code == 0, taken.err
    assert (tmp_path / "report.pdf").read_bytes() == b"x" * 5000


def test_help_and_docs_list_every_exit_code() -> None:
    """`cxpa --help`, the README and docs/cli.md each list every exit code the CLI returns (its `Exit`), no other."""
    codes = {int(code) for code in Exit}
    epilog = build_parser().epilog or ""
    assert {int(n) for n in re.findall(r"\b(\d+)\s+[A-Za-z]", epilog.partition("Exit codes:")[2])} == codes, epilog
    root = Path(__file__).resolve().parents[2]
    readme = root.joinpath("README.md").read_text(encoding="utf-8")
    listed = re.search(r"^Exit codes: (.*?)\. See ", readme, re.MULTILINE | re.DOTALL)
    assert listed is not None
    assert {int(n) for n in re.findall(r"\b(\d+)\s+[A-Za-z]", listed[1])} == codes, listed[1]
    table = root.joinpath("docs", "cli.md").read_text(encoding="utf-8").partition("## Exit codes")[2]
    assert {int(n) for n in re.findall(r"^\| (\d+) \|", table, re.MULTILINE)} == codes
