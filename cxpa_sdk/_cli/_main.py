"""The `cxpa` command: parse arguments, call the library, render the result, return an exit code."""

from __future__ import annotations

import argparse
import enum
import json
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .. import _config as check
from .._errors import (
    APIStatusError,
    CxpaError,
    DownloadTooLargeError,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    LocalFileError,
    WaitTimeoutError,
)
from .._version import __version__
from ..types import RunFailedError
from . import _batch
from ._output import Streams, emit, progress_bar, say


class Exit(enum.IntEnum):
    """The exit codes of `cxpa`."""

    OK = 0
    RUN_FAILED = 1  # the run failed or was cancelled
    USAGE = 2  # bad arguments, bad JSON, missing configuration
    WAIT_TIMED_OUT = 3  # the wait ended before the run did
    API_ERROR = 4  # the platform answered an error, or could not be reached
    LOCAL_FILE = 5  # the run's file was not saved here: a folder, permissions, a full disk, or over --max-bytes
    INTERRUPTED = 130  # Ctrl-C


WAIT_TIMEOUT_MS = 300_000
"""How long `cxpa wait` waits by default, in milliseconds."""


class UsageError(Exception):
    """A bad argument the parser could not catch (such as bad JSON); exit 2."""


def json_argument(text: str, name: str, streams: Streams) -> Any:
    """The JSON of an argument given as text, `@file`, or `-` (standard input)."""
    source = name
    if text == "-":
        text = streams.stdin.read()
        source = f"{name} (stdin)"
    elif text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{name}: can't read {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise UsageError(f"{name}: {path} is not UTF-8 text") from None
        source = f"{name} ({path})"
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise UsageError(f"{source}: the JSON is nested too deeply") from None


_JSON_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),
    (int, "a number"),
    (float, "a number"),
    (str, "a string"),
    (list, "an array"),
)


def json_object_argument(text: str, name: str, streams: Streams) -> dict[str, Any]:
    """The JSON object of an argument (a run's input); a UsageError naming its JSON type when it is not one."""
    value = json_argument(text, name, streams)
    if isinstance(value, dict):
        return value
    kind = "null" if value is None else next(kind for cls, kind in _JSON_KINDS if isinstance(value, cls))
    raise UsageError(f'{name} must be a JSON object, such as {{"topic": "Q3"}}, not {kind}')


def _download_arguments(download: argparse.ArgumentParser) -> None:
    """The arguments of `cxpa download`."""
    download.add_argument("agent_id", type=int)
    download.add_argument("--input", default="{}", help="the run's input: JSON, @file, or - for stdin")
    download.add_argument("-o", "--output", default=".", help="a file path or folder (default: the current one)")
    download.add_argument("--timeout-ms", type=int, default=None, help="how long to wait for the first byte")
    download.add_argument(
        "--fsync", action="store_true", help="sync the file to disk before it appears (power-cut safe)"
    )
    download.add_argument(
        "--overwrite", action="store_true", help="replace a file of the server's name (default: save as 'name (1)')"
    )
    download.add_argument(
        "--max-bytes", type=int, default=None, help="refuse a file larger than this many bytes (nothing is saved)"
    )
    download.add_argument(
        "--allow-close-delimited",
        action="store_true",
        help="accept a file that nothing proves whole (no Content-Length, not chunked)",
    )


def _dev_server_arguments(server: argparse.ArgumentParser) -> None:
    """The arguments of `cxpa dev-server`."""
    server.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    server.add_argument("--port", type=int, default=8787, help="port (default 8787; 0 picks a free one)")
    server.add_argument("--ingest-key", help="the ingest API key callers use (default cxpa_local_ingest_key)")
    server.add_argument(
        "--agent",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="add a JSON agent whose runtime is sent the trigger payload at URL (repeatable)",
    )
    server.add_argument(
        "--file-agent",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="add a file_download agent whose runtime at URL answers with the file (repeatable)",
    )
    server.add_argument(
        "--inline-agent",
        action="append",
        default=[],
        metavar="NAME[=DELAY_MS]",
        help="add an inline JSON agent: each run completes with its input inside the platform after DELAY_MS "
        "(default 0; a run's input.seconds overrides it), no runtime thread or callback: for runs by the "
        "hundred thousand (repeatable)",
    )
    server.add_argument(
        "--agent-key",
        action="append",
        default=[],
        metavar="AGENT=KEY",
        help="fix the agent API key of an agent (by name or id) instead of a random one, never printed (repeatable)",
    )
    server.add_argument(
        "--signing-secret",
        action="append",
        default=[],
        metavar="KEY",
        help="sign every POST to a URL runtime with KEY: whsec_... (v1, HMAC) or whsk_... (v1a, Ed25519); "
        "repeatable (one signature per key, for rotation); never printed",
    )
    server.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests whose Host is NAME, on any port (default: only localhost or an IP address "
        "on any port; * answers any); repeatable",
    )


def _common_arguments() -> argparse.ArgumentParser:
    """The flags of every command that talks to the platform: where, which key, output, and call options."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--base-url", help="the platform's URL (default: $CXPA_API_URL)")
    common.add_argument("--ingest-key", help="the ingest API key (default: $CXPA_INGEST_KEY)")
    common.add_argument("--format", choices=["json", "text"], default="json", help="output format (default json)")
    common.add_argument("--debug", action="store_true", help="show tracebacks and the SDK's debug log")
    common.add_argument(
        "--allow-insecure", action="store_true", help="allow a plain http:// URL to a host that is not this machine"
    )
    common.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="each HTTP request's timeout in seconds (default: connect 5, read 60); waits use --timeout-ms",
    )
    common.add_argument(
        "--deadline", type=float, metavar="SECONDS", help="the most one call may take in all (default 120)"
    )
    common.add_argument(
        "--max-retries", type=int, metavar="N", help="retries after the first attempt (default 2; 0 disables them)"
    )
    return common


def _runtime_arguments(sub: Any) -> None:
    """`cxpa runtime serve`'s parser."""
    runtime = sub.add_parser(
        "runtime", help="serve a runtime host", description="Serve agents declared with cxpa_sdk.runtime."
    )
    runtime_sub = runtime.add_subparsers(dest="runtime_command", required=True, metavar="COMMAND")
    serve = runtime_sub.add_parser(
        "serve",
        help="serve module:runtime under uvicorn until Ctrl-C or SIGTERM",
        description="Serve a cxpa_sdk.runtime.Runtime (found as module:attribute from the current directory) "
        "under uvicorn: each agent at POST /agents/{name}.",
    )
    serve.add_argument("target", metavar="MODULE:RUNTIME", help="where the Runtime is, such as my_agents:runtime")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `cxpa` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="cxpa",
        description="Trigger, wait for, download and report CXPA agent runs; run a local platform.",
        epilog="Exit codes: 0 success, 1 run failed or cancelled, 2 usage or configuration error, "
        "3 wait timed out, 4 API or connection error, 5 the run's file not saved here (download), "
        "130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"cxpa {__version__}")
    common = _common_arguments()
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], help=help_text, description=help_text)

    demo = sub.add_parser(
        "demo",
        help="run all six seed operations against a local platform",
        description="Start a local platform and walk through the six seed operations.",
    )
    demo.add_argument(
        "--output-dir",
        default=None,
        help="keep the demo's downloaded file in this folder (default: a temporary folder, removed at the end)",
    )
    server = sub.add_parser(
        "dev-server",
        help="serve the local platform until Ctrl-C",
        description="Serve the local CXPA platform until Ctrl-C.",
    )
    _dev_server_arguments(server)
    _runtime_arguments(sub)
    trigger = command("trigger", "start a run and print its id")
    trigger.add_argument("agent_id", type=int)
    trigger.add_argument("--input", default="{}", help="the run's input: JSON, @file, or - for stdin")
    wait = command("wait", "start a run and wait for it, or wait for an existing one (--run-id)")
    wait.add_argument("agent_id", type=int)
    wait.add_argument("--input", default="{}", help="the run's input: JSON, @file, or - for stdin")
    wait.add_argument("--run-id", help="wait for this existing run instead of starting one")
    wait.add_argument("--timeout-ms", type=int, default=WAIT_TIMEOUT_MS, help="how long to wait (default 300000)")
    _download_arguments(command("download", "start a run of a file agent and save its file"))
    _batch.add_arguments(command("batch", _batch.HELP))
    for name, help_text in (("get", "print a run"), ("cancel", "cancel a run")):
        getter = command(name, help_text)
        getter.add_argument("agent_id", type=int)
        getter.add_argument("run_id")
    resume = command("resume", "resume a run that waits on a token")
    resume.add_argument("agent_id", type=int)
    resume.add_argument("run_id")
    resume.add_argument("token_id")
    resume.add_argument("--output", help="what to pass on to the runtime: a JSON object, @file, or - for stdin")
    register = command("register", "register an externally triggered run")
    register.add_argument("agent_id", type=int)
    register.add_argument("external_run_id")
    register.add_argument("--show-secrets", action="store_true", help="print the credentials token (hidden by default)")
    ingest = command("ingest", "report the status of a standalone agent's run")
    ingest.add_argument("agent_id", type=int)
    ingest.add_argument("external_run_id")
    ingest.add_argument("--status", required=True, help="queued, running, waiting, completed, failed or cancelled")
    ingest.add_argument("--output", help="the run's output: JSON, @file, or - for stdin")
    ingest.add_argument("--outputs", type=int, help="a count of output units")
    ingest.add_argument("--error", help="why the run failed (a message)")
    credential = command("credential", "resolve a credential connection (as a runtime)")
    credential.add_argument("connection_id")
    credential.add_argument("--api-key", help="the agent API key (default: $CXPA_AGENT_KEY)")
    credential.add_argument("--run-id", help="the run the runtime reports on (default: $CXPA_RUN_ID)")
    credential.add_argument(
        "--credentials-token", help="the run's credentials token (default: $CXPA_CREDENTIALS_TOKEN)"
    )
    credential.add_argument("--show-secrets", action="store_true", help="print the secret values (hidden by default)")
    return parser


def client_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options of a client that the flags give, checked and named as flags; the library's defaults otherwise."""
    options: dict[str, Any] = {"allow_insecure": args.allow_insecure}
    if args.timeout is not None:
        options["timeout"] = check.seconds(args.timeout, "--timeout")
    if args.deadline is not None:
        options["deadline"] = check.seconds(args.deadline, "--deadline")
    if args.max_retries is not None:
        options["max_retries"] = check.non_negative_int(args.max_retries, "--max-retries")
    return options


def _base_url(args: argparse.Namespace) -> str:
    """The platform's URL from --base-url or $CXPA_API_URL, checked, with errors that name the flags."""
    return check.base_url(args.base_url, allow_insecure=args.allow_insecure, insecure_hint="pass --allow-insecure")


def _client(args: argparse.Namespace) -> Any:
    from .._client import Cxpa  # noqa: PLC0415 - `cxpa --help` stays fast

    check.require(
        ("--base-url", args.base_url, check.ENV_API_URL), ("--ingest-key", args.ingest_key, check.ENV_INGEST_KEY)
    )
    return Cxpa(base_url=_base_url(args), ingest_api_key=args.ingest_key, **client_options(args))


def _trigger(args: argparse.Namespace, streams: Streams) -> Exit:
    with _client(args) as client:
        data = json_object_argument(args.input, "--input", streams)
        handle = client.trigger_run(args.agent_id, data)
        emit({"run_id": handle.run_id, "status": handle.status}, streams, args.format)
    return Exit.OK


def wait_again(args: argparse.Namespace, run_id: str) -> str:
    """The `cxpa wait --run-id` command that waits again for a run, with the flags given (never the key)."""
    words = ["cxpa", "wait", str(args.agent_id), "--run-id", run_id]
    if args.base_url is not None:
        words += ["--base-url", args.base_url]
    for flag, value in (
        ("--timeout", args.timeout),
        ("--deadline", args.deadline),
        ("--max-retries", args.max_retries),
    ):
        if value is not None:
            words += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    if args.timeout_ms != WAIT_TIMEOUT_MS:
        words += ["--timeout-ms", str(args.timeout_ms)]
    words += ["--allow-insecure"] * args.allow_insecure + ["--format", "text"] * (args.format == "text")
    command = shlex.join(words)
    return command + " (and --ingest-key, not shown)" if args.ingest_key is not None else command


def _interrupted(args: argparse.Namespace, run_id: str, streams: Streams) -> Exit:
    """Ctrl-C while waiting: the run goes on; say which, and how to wait for it (or cancel it) again."""
    say(streams.stderr, f"cxpa: interrupted; run {run_id} is still running. Wait for it again with:")
    say(streams.stderr, f"  {wait_again(args, run_id)}")
    say(streams.stderr, f"or cancel it with: cxpa cancel {args.agent_id} {shlex.quote(run_id)}")
    return Exit.INTERRUPTED


def _wait(args: argparse.Namespace, streams: Streams) -> Exit:
    with _client(args) as client:
        if args.run_id:
            run_id = args.run_id
        else:
            # Trigger, then wait by run id: a Ctrl-C during the wait can then say which run goes on.
            data = json_object_argument(args.input, "--input", streams)
            run_id = client.trigger_run(args.agent_id, data).run_id
        try:
            run = client.wait_for_run(args.agent_id, run_id, timeout=args.timeout_ms / 1000)
        except KeyboardInterrupt:
            return _interrupted(args, run_id, streams)
        except WaitTimeoutError as exc:
            if args.run_id:
                raise
            # A wait that started the run prints where it stands, as trigger-and-wait's WaitTimedOut.
            emit({"run_id": exc.run_id, "status": exc.status, "timed_out": True}, streams, args.format)
            return Exit.WAIT_TIMED_OUT
    emit(run, streams, args.format)
    return Exit.RUN_FAILED if run.status in ("failed", "cancelled") else Exit.OK


def _download(args: argparse.Namespace, streams: Streams) -> Exit:
    data = json_object_argument(args.input, "--input", streams)
    run_id: str | None = None
    try:
        with (
            _client(args) as client,
            client.trigger_run_and_download(args.agent_id, data, timeout_ms=args.timeout_ms) as download,
            progress_bar(streams, download.filename) as progress,
        ):
            run_id = download.run_id
            path = download.save(
                args.output,
                progress=progress,
                fsync=args.fsync,
                overwrite=args.overwrite,
                max_bytes=args.max_bytes,
                allow_close_delimited=args.allow_close_delimited,
            )
            result = {
                "run_id": download.run_id,
                "path": str(path),
                "filename": download.filename,
                "content_type": download.content_type,
                "bytes": path.stat().st_size,
            }
    except KeyboardInterrupt:
        return _download_interrupted(args, run_id, streams)
    emit(result, streams, args.format)
    return Exit.OK


def _batch_command(args: argparse.Namespace, streams: Streams) -> Exit:
    with _client(args) as client:
        written, not_completed, interrupted = _batch.run_batch(args, streams, client)
    _batch.report(args, streams, written, not_completed, interrupted)
    if interrupted:
        return Exit.INTERRUPTED
    return Exit.RUN_FAILED if not_completed else Exit.OK


def _download_interrupted(args: argparse.Namespace, run_id: str | None, streams: Streams) -> Exit:
    """Ctrl-C during a download: nothing was saved; name the run when the platform had said which."""
    if run_id is None:
        say(
            streams.stderr,
            "cxpa: interrupted before the platform sent the file; nothing was saved (the run's id was not known yet)",
        )
    else:
        say(
            streams.stderr,
            f"cxpa: interrupted; the download of run {run_id} stopped and nothing was saved. A run's file "
            f"streams once; see where the run stands with: cxpa get {args.agent_id} {shlex.quote(run_id)}",
        )
    return Exit.INTERRUPTED


def _get(args: argparse.Namespace, streams: Streams) -> Exit:
    with _client(args) as client:
        emit(client.get_run(args.agent_id, args.run_id), streams, args.format)
    return Exit.OK


def _cancel(args: argparse.Namespace, streams: Streams) -> Exit:
    with _client(args) as client:
        emit(client.cancel_run(args.agent_id, args.run_id), streams, args.format)
    return Exit.OK


def _resume(args: argparse.Namespace, streams: Streams) -> Exit:
    output = None if args.output is None else json_object_argument(args.output, "--output", streams)
    with _client(args) as client:
        emit(client.resume_run(args.agent_id, args.run_id, args.token_id, output), streams, args.format)
    return Exit.OK


def _register(args: argparse.Namespace, streams: Streams) -> Exit:
    with _client(args) as client:
        registered = client.register_run(args.agent_id, args.external_run_id)
    emit(
        {
            "run_id": registered.run_id,
            "credentials_token": registered.credentials_token if args.show_secrets else "***",
            "expires_in_seconds": registered.expires_in_seconds,
        },
        streams,
        args.format,
    )
    return Exit.OK


def _ingest(args: argparse.Namespace, streams: Streams) -> Exit:
    options: dict[str, Any] = {"outputs": args.outputs, "error": args.error}
    if args.output is not None:
        options["output"] = json_argument(args.output, "--output", streams)
    with _client(args) as client:
        emit(client.ingest_run(args.agent_id, args.external_run_id, args.status, **options), streams, args.format)
    return Exit.OK


def _credential(args: argparse.Namespace, streams: Streams) -> Exit:
    from .._runtime._agent import AgentClient  # noqa: PLC0415 - `cxpa --help` stays fast

    check.require(
        ("--base-url", args.base_url, check.ENV_API_URL),
        ("--api-key", args.api_key, "CXPA_AGENT_KEY"),
        ("--credentials-token", args.credentials_token, "CXPA_CREDENTIALS_TOKEN"),
    )
    api_key = os.environ["CXPA_AGENT_KEY"] if args.api_key is None else args.api_key
    token = os.environ["CXPA_CREDENTIALS_TOKEN"] if args.credentials_token is None else args.credentials_token
    run_id = args.run_id or os.environ.get("CXPA_RUN_ID") or "cli"
    agent = AgentClient(
        base_url=_base_url(args), api_key=api_key, run_id=run_id, credentials_token=token, **client_options(args)
    )
    try:
        credential = agent.resolve_credential(args.connection_id)
    finally:
        agent.close()
    shown = dict(credential.values) if args.show_secrets else dict.fromkeys(credential.values, "***")
    emit(
        {
            "connection_id": credential.connection_id,
            "type": credential.type,
            "values": shown,
            "expires_at": credential.expires_at,
        },
        streams,
        args.format,
    )
    return Exit.OK


def _demo(args: argparse.Namespace, streams: Streams) -> Exit:
    from ._demo import run_demo  # noqa: PLC0415 - needs the local platform (the `testing` extra)

    return Exit.OK if run_demo(None if args.output_dir is None else Path(args.output_dir), streams) else Exit.RUN_FAILED


def _dev_server(args: argparse.Namespace, streams: Streams) -> Exit:
    from ..testing import _serve  # noqa: PLC0415 - needs the local platform (the `testing` extra)

    try:  # every flag is checked before anything is served
        agents = [_serve.parse_agent(spec, "json") for spec in args.agent]
        agents += [_serve.parse_agent(spec, "file_download") for spec in args.file_agent]
        agents += [_serve.parse_inline_agent(spec) for spec in args.inline_agent]
        keys = [_serve.parse_agent_key(spec) for spec in args.agent_key]
        platform = _serve.build_platform(args.ingest_key, agents, keys, args.signing_secret)
        allowed_hosts = [_serve.parse_allowed_host(spec) for spec in args.allowed_host]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    _serve.serve_forever(args.host, args.port, args.ingest_key, streams.stdout, platform, allowed_hosts=allowed_hosts)
    return Exit.OK


def _runtime(args: argparse.Namespace, streams: Streams) -> Exit:
    from ..runtime import _serve  # noqa: PLC0415 - needs Starlette and uvicorn (the `runtime` extra)

    _serve.serve(_serve.load_runtime(args.target), args.host, args.port, streams.stdout)
    return Exit.OK


# The modules the `testing` extra installs (`demo` and `dev-server` need them).
TESTING_EXTRA = frozenset({"starlette", "uvicorn"})

COMMANDS: dict[str, Callable[[argparse.Namespace, Streams], Exit]] = {
    "demo": _demo,
    "dev-server": _dev_server,
    "runtime": _runtime,
    "trigger": _trigger,
    "wait": _wait,
    "download": _download,
    "batch": _batch_command,
    "get": _get,
    "cancel": _cancel,
    "resume": _resume,
    "register": _register,
    "ingest": _ingest,
    "credential": _credential,
}


# Failures whose exit code and line follow from their class alone: (classes, code, line prefix).
_BY_CLASS: tuple[tuple[tuple[type[Exception], ...], Exit, str], ...] = (
    ((UsageError, InvalidArgumentError, InvalidArgumentTypeError), Exit.USAGE, ""),
    ((LocalFileError,), Exit.LOCAL_FILE, "local_file_error: "),
    ((DownloadTooLargeError,), Exit.LOCAL_FILE, "download_too_large: "),
    ((WaitTimeoutError,), Exit.WAIT_TIMED_OUT, "wait_timeout: "),
    ((RunFailedError,), Exit.RUN_FAILED, ""),
)


def describe(exc: Exception) -> tuple[Exit, str]:
    """The exit code and the stderr line for a failure (`run` prints it with its steering characters escaped)."""
    for classes, code, prefix in _BY_CLASS:
        if isinstance(exc, classes):
            return code, f"{prefix}{exc}"
    if isinstance(exc, ModuleNotFoundError):
        return Exit.USAGE, f"{exc}; install the extra: pip install 'cxpa-sdk[testing]'"
    if isinstance(exc, APIStatusError):
        line = f"{exc.code}: {exc.message} (HTTP {exc.status_code}, request {exc.request_id or 'unknown'})"
        return (Exit.RUN_FAILED if exc.code == "run_failed" else Exit.API_ERROR), line
    return Exit.API_ERROR, f"{type(exc).__name__}: {exc}"


def run(argv: Sequence[str] | None = None, streams: Streams | None = None) -> int:
    """Run `cxpa` with these arguments and streams; the exit code."""
    streams = streams or Streams()
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse printed the usage error or the help
        return int(exc.code or 0)
    if getattr(args, "debug", False):
        import logging  # noqa: PLC0415 - only --debug configures logging

        logging.basicConfig(level=logging.DEBUG, stream=streams.stderr)
    try:
        return COMMANDS[args.command](args, streams)
    except KeyboardInterrupt:
        streams.stderr.write("cxpa: interrupted\n")
        return Exit.INTERRUPTED
    except (UsageError, CxpaError, ModuleNotFoundError) as exc:
        if isinstance(exc, ModuleNotFoundError) and (exc.name or "").partition(".")[0] not in TESTING_EXTRA:
            raise  # not a missing extra: a defect, shown with its traceback
        code, line = describe(exc)
        if getattr(args, "debug", False) and code == Exit.API_ERROR:
            raise
        say(streams.stderr, f"cxpa: {line}")  # one line: what the platform said cannot steer the terminal
        return code


def main() -> None:
    """The console script `cxpa`."""
    sys.exit(run())
