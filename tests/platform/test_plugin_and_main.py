"""The pytest plugin users install with cxpa-sdk[testing], and `python -m cxpa_sdk.testing`."""

import subprocess
import sys

import httpx2
import pytest
from child_support import EXIT_TIMEOUT_S, START_TIMEOUT_S, child

# A pytest session of three tests on a served platform takes seconds; the bound is for a loaded machine.
INNER_SESSION_TIMEOUT_S = 300.0


def test_plugin_loads_nothing_heavy() -> None:
    """Loading the plugin (as pytest does at start) imports no Starlette, uvicorn or local platform."""
    code = (
        "import sys, cxpa_sdk.pytest_plugin;"
        "heavy = [m for m in ('starlette', 'uvicorn', 'cxpa_sdk.testing') if m in sys.modules];"
        "print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"


def test_users_test_suite_gets_a_served_platform(pytester: pytest.Pytester) -> None:
    """A user's test using the `cxpa_platform` fixture talks to a served platform; faults reset between tests."""
    pytester.makepyfile(
        """
        import httpx2

        def test_trigger_and_wait(cxpa_platform):
            response = httpx2.post(
                f"{cxpa_platform.base_url}/api/agents/1/runs/trigger-and-wait",
                json={"input": {"hello": "world"}},
                headers={"Authorization": f"Bearer {cxpa_platform.ingest_key}"},
            )
            assert response.json()["output_data"] == {"hello": "world"}

        def test_fault(cxpa_platform):
            cxpa_platform.faults.fail_next(5, status=503)

        def test_faults_were_reset(cxpa_platform):
            response = httpx2.post(
                f"{cxpa_platform.base_url}/api/agents/1/runs/trigger",
                json={"input": {}},
                headers={"Authorization": f"Bearer {cxpa_platform.ingest_key}"},
            )
            assert response.status_code == 202
        """
    )
    # Bounded: a hung inner session fails here (Pytester.TimeoutExpired names the command and the timeout).
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=INNER_SESSION_TIMEOUT_S)
    result.assert_outcomes(passed=3)


@pytest.mark.parametrize(
    ("how", "autoload"),
    [("-p", True), ("-p", False), ("conftest", True), ("conftest", False), ("autoload", True)],
    ids=["p-autoload", "p-no-autoload", "conftest-autoload", "conftest-no-autoload", "autoload-only"],
)
def test_every_way_of_loading_the_plugin_works(
    how: str, autoload: bool, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Autoloaded, `-p cxpa_sdk.pytest_plugin` and a conftest's `pytest_plugins`, alone or together: one plugin."""
    pytester.makepyfile(
        "def test_served(cxpa_platform):\n    assert cxpa_platform.base_url.startswith('http://127.0.0.1:')\n"
    )
    if how == "conftest":
        pytester.makeconftest('pytest_plugins = ["cxpa_sdk.pytest_plugin"]\n')
    if autoload:
        monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    else:
        monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    arguments = ["-p", "no:cacheprovider", *(["-p", "cxpa_sdk.pytest_plugin"] if how == "-p" else [])]
    result = pytester.runpytest_subprocess(*arguments, timeout=INNER_SESSION_TIMEOUT_S)
    result.assert_outcomes(passed=1)


def test_the_plugin_can_be_turned_off(pytester: pytest.Pytester) -> None:
    """`-p no:cxpa_sdk.pytest_plugin` keeps the plugin out: its fixtures are not there."""
    pytester.makepyfile("def test_served(cxpa_platform):\n    pass\n")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:cxpa_sdk.pytest_plugin", timeout=INNER_SESSION_TIMEOUT_S
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'cxpa_platform' not found*"])


def test_main_serves_and_prints_url_key_and_agents() -> None:
    """`python -m cxpa_sdk.testing --port 0` prints the base URL, the ingest key and the agent table."""
    command = [sys.executable, "-m", "cxpa_sdk.testing", "--port", "0", "--ingest-key", "k-main"]
    with child(command, what="`python -m cxpa_sdk.testing`", lines=True) as server:
        lines = server.lines.until("Ctrl-C stops it.\n", START_TIMEOUT_S)
        url = lines[0].split(" at ")[1].strip()
        assert lines[1].strip() == "ingest key: k-main"
        table = "".join(lines[2:9])
        for name in ("echo", "slow", "fail", "report", "standalone", "approval"):
            assert name in table
        answer = httpx2.post(
            f"{url}/api/agents/1/runs/trigger", json={"input": {}}, headers={"Authorization": "Bearer k-main"}
        )
        assert answer.status_code == 202
        server.process.terminate()
        server.wait(EXIT_TIMEOUT_S, since="SIGTERM")
