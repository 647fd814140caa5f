"""A served platform answers only requests whose Host names it: no DNS rebinding (issue 23, defect 8).

A web page of `rebind.attacker.example` can rebind its name to 127.0.0.1 and have the browser send
`POST /api/agents/1/runs/trigger` with the well-known default key to `cxpa dev-server`; the browser
still says `Host: rebind.attacker.example`, and that is what the platform refuses.
"""

import json
import socket
import subprocess
import sys
from collections.abc import Iterator

import httpx2
import pytest
from child_support import START_TIMEOUT_S, child

from cxpa_sdk import Cxpa
from cxpa_sdk.testing import ECHO, LocalPlatform
from cxpa_sdk.testing._platform import DEFAULT_INGEST_KEY
from cxpa_sdk.testing._server import HostRule, allowed_host

RULE = HostRule.of("127.0.0.1", ["dev.example"])
ANSWER_TIMEOUT_S = 30.0
MAX_ANSWER_BYTES = 1 << 20


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:8787",
        "localhost:8787",
        "LOCALHOST:8787",
        "[::1]:8787",
        "[::ffff:127.0.0.1]:8787",
        "192.0.2.7:8787",
        "localhost:08787",
        "dev.example",
        "dev.example:443",
        "Dev.Example:8787",
        "localhost:8788",
        "127.0.0.1:8788",
        "127.0.0.1",
        "localhost",
        "[::1]",
    ],
    ids=[
        "loopback",
        "localhost",
        "localhost-upper-case",
        "ipv6-loopback",
        "ipv4-mapped-ipv6",
        "another-address",
        "port-leading-zero",
        "allowed-name-no-port",
        "allowed-name-any-port",
        "allowed-name-upper-case",
        "localhost-another-port",
        "loopback-another-port",
        "loopback-no-port",
        "localhost-no-port",
        "ipv6-no-port",
    ],
)
def test_host_rule_accepts_the_names_of_the_server(host: str) -> None:
    """localhost, IP addresses and the allowed names name the server on any port (a relay or port map changes it)."""
    assert RULE.accepts(host)


@pytest.mark.parametrize(
    "host",
    [
        "rebind.attacker.example",
        "rebind.attacker.example:8787",
        "::1:8787",
        "::1",
        "[127.0.0.1]:8787",
        "[fe80::1%25eth0]:8787",
        "localhost.:8787",
        "127.0.0.1.nip.io:8787",
        "2130706433:8787",
        "sub.dev.example",
        "dev.example.attacker.example",
        "user@localhost:8787",
        "localhost:8787:8787",
        "localhost:8787\x00",
        "localhost:8787\x1b[2J",
        "",
        " ",
        "x" * 10_000,
    ],
    ids=[
        "another-name",
        "another-name-right-port",
        "ipv6-without-brackets",
        "ipv6-without-brackets-or-port",
        "ipv4-in-brackets",
        "ipv6-zone",
        "trailing-dot",
        "name-that-resolves-to-loopback",
        "integer-address",
        "subdomain-of-an-allowed-name",
        "allowed-name-as-a-prefix",
        "userinfo",
        "two-ports",
        "nul",
        "escape",
        "empty",
        "space",
        "huge",
    ],
)
def test_host_rule_refuses_every_other_host(host: str) -> None:
    """Another name, malformed or huge values: none names the server."""
    assert not RULE.accepts(host)
    assert RULE.refusal([host]) is not None


def test_host_rule_needs_exactly_one_host() -> None:
    """No Host header, or several (even all right), is refused."""
    assert RULE.refusal([]) is not None
    assert RULE.refusal(["localhost:8787", "localhost:8787"]) is not None
    assert RULE.refusal(["localhost:8787"]) is None


def test_any_host_turns_the_check_off() -> None:
    """`--allowed-host '*'` answers any Host (a user's explicit choice)."""
    assert HostRule.of("127.0.0.1", ["*"]).accepts("rebind.attacker.example")


@pytest.mark.parametrize("name", ["dev.example:8787", "", "a b", "http://dev.example", "dev.example/"])
def test_an_allowed_host_is_a_bare_name(name: str) -> None:
    """An allowed host is a name without a port, scheme or path (ValueError otherwise)."""
    with pytest.raises(ValueError, match="expected a host name without a port"):
        allowed_host(name)


# -- a real `cxpa dev-server`, asked with forged Host headers over raw sockets -------------------------


@pytest.fixture(scope="module")
def dev_server() -> Iterator[int]:
    """The port of a `cxpa dev-server --allowed-host dev.example` child with the default ingest key."""
    command = [sys.executable, "-m", "cxpa_sdk", "dev-server", "--port", "0", "--allowed-host", "dev.example"]
    with child(command, what="`cxpa dev-server`", lines=True) as server:
        banner = server.lines.until("Ctrl-C stops it.\n", START_TIMEOUT_S)
        yield int(banner[0].rsplit(":", 1)[1])


def trigger_with(port: int, host_lines: bytes, version: bytes = b"HTTP/1.1") -> tuple[int, bytes]:
    """What a browser on a rebound page sends: a trigger with the default key; (status, body) of the answer."""
    body = b'{"input": {"from": "a web page"}}'
    head = (
        b"POST /api/agents/1/runs/trigger " + version + b"\r\n" + host_lines
        + b"Authorization: Bearer " + DEFAULT_INGEST_KEY.encode() + b"\r\n"
        + b"Origin: http://rebind.attacker.example:8787\r\nContent-Type: application/json\r\n"
        + b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
    )  # fmt: skip
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_TIMEOUT_S) as conn:
        conn.sendall(head + body)
        while (chunk := conn.recv(65536)) and len(answer) < MAX_ANSWER_BYTES:
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split(b" ")[1]), rest.partition(b"\r\n\r\n")[2]


REFUSED: dict[str, tuple[bytes, bytes]] = {
    # name: (Host header lines, HTTP version); {port} is the served port
    "rebinding-name": (b"Host: rebind.attacker.example\r\n", b"HTTP/1.1"),
    "rebinding-name-right-port": (b"Host: rebind.attacker.example:{port}\r\n", b"HTTP/1.1"),
    "ipv6-without-brackets": (b"Host: ::1:{port}\r\n", b"HTTP/1.1"),
    "escape-after-the-port": (b"Host: localhost:{port}\x1b[2J\r\n", b"HTTP/1.1"),
    "huge": (b"Host: " + b"a" * 100_000 + b".example\r\n", b"HTTP/1.1"),
    "absent-http-1.0": (b"", b"HTTP/1.0"),
}
REFUSED_BY_HTTP: dict[str, tuple[bytes, bytes]] = {
    # refused by the HTTP parser (h11) before the platform sees them: 400, and nothing applied
    "absent-http-1.1": (b"", b"HTTP/1.1"),
    "repeated": (b"Host: localhost:{port}\r\nHost: rebind.attacker.example\r\n", b"HTTP/1.1"),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_dev_server_refuses_a_host_that_does_not_name_it(dev_server: int, case: str) -> None:
    """A trigger with the default key but a Host that is not the dev server's is refused 421 and never applied."""
    host_lines, version = REFUSED[case]
    status, body = trigger_with(dev_server, host_lines.replace(b"{port}", str(dev_server).encode()), version)
    assert status == 421
    error = json.loads(body)["error"]
    assert error["code"] == "host_not_allowed"
    assert "--allowed-host" in error["message"]
    assert len(error["message"]) < 600  # a huge Host is not echoed whole


@pytest.mark.parametrize("case", REFUSED_BY_HTTP, ids=list(REFUSED_BY_HTTP))
def test_dev_server_refuses_a_missing_or_repeated_host_on_http_1_1(dev_server: int, case: str) -> None:
    """HTTP/1.1 without a Host, or with two (even one right), is a 400 from the HTTP parser: no run is started."""
    host_lines, version = REFUSED_BY_HTTP[case]
    status, body = trigger_with(dev_server, host_lines.replace(b"{port}", str(dev_server).encode()), version)
    assert status == 400
    assert b"runId" not in body


@pytest.mark.parametrize(
    "host",
    [b"127.0.0.1:{port}", b"localhost:{port}", b"[::1]:{port}", b"localhost:1", b"dev.example", b"DEV.example:443"],
    ids=["loopback", "localhost", "ipv6-loopback", "port-map", "allowed-host", "allowed-host-behind-a-proxy"],
)
def test_dev_server_answers_the_names_it_serves(dev_server: int, host: bytes) -> None:
    """The printed address, localhost, [::1], on any port (a relay or port map), and an --allowed-host name."""
    status, body = trigger_with(dev_server, b"Host: " + host.replace(b"{port}", str(dev_server).encode()) + b"\r\n")
    assert status == 202
    assert json.loads(body)["runId"].startswith("run_")


@pytest.mark.parametrize("module", ["cxpa_sdk", "cxpa_sdk.testing"], ids=["cxpa-dev-server", "python-m-testing"])
def test_a_bad_allowed_host_is_exit_2_before_serving(module: str) -> None:
    """`--allowed-host NAME:PORT` is exit 2 with one line naming the flag, and nothing is served."""
    command = [sys.executable, "-m", module, *(["dev-server"] if module == "cxpa_sdk" else [])]
    done = subprocess.run(
        [*command, "--port", "0", "--allowed-host", "dev.example:8787"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--allowed-host: expected a host name without a port" in done.stderr
    assert done.stdout == ""


# -- LocalPlatform.serve, as tests and users serve it ----------------------------------------------------


def test_local_platform_serve_takes_allowed_hosts() -> None:
    """`serve(allowed_hosts=...)` answers that name, another gets the 421 envelope; the SDK still works."""
    platform = LocalPlatform()
    auth = {"Authorization": f"Bearer {platform.ingest_key}"}
    with (
        platform.serve(allowed_hosts=["ci-platform"]) as base_url,
        httpx2.Client(base_url=base_url, timeout=30) as http,
    ):
        named = http.post("/api/agents/1/runs/trigger", json={"input": {}}, headers={**auth, "Host": "ci-platform"})
        other = http.post("/api/agents/1/runs/trigger", json={"input": {}}, headers={**auth, "Host": "elsewhere"})
        with Cxpa(base_url=base_url, ingest_api_key=platform.ingest_key) as client:
            run = client.trigger_run_and_wait(ECHO, {"a": 1}, timeout_ms=30_000)
    assert named.status_code == 202
    assert (other.status_code, other.json()["error"]["code"]) == (421, "host_not_allowed")
    assert other.headers["x-request-id"].startswith("req_")
    assert run.output_data == {"a": 1}
    assert len(platform.runs(ECHO)) == 2  # the named trigger and the SDK's run; the refused one never ran


def test_local_platform_serve_refuses_a_bad_allowed_host() -> None:
    """A bad allowed host is a ValueError before anything is served."""
    with pytest.raises(ValueError, match="expected a host name"), LocalPlatform().serve(allowed_hosts=["a:1"]):
        pass
