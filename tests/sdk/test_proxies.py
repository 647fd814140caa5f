"""Proxies: HTTP_PROXY, NO_PROXY, trust_env and proxy=, proved with a real forward proxy on 127.0.0.1.

The SDK's own pools send a call's request straight to their transport, past httpx2.Client's mounts,
so these tests check what went through the proxy, not how the client was configured.
"""

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from proxy_support import ForwardProxy, forward_proxy

from cxpa_sdk import AgentClient, AsyncAgentClient, AsyncCxpa, Cxpa, InvalidArgumentError
from cxpa_sdk.testing import LocalPlatform

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
MODES = ["sync", "async", "aiohttp"]


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[ForwardProxy]:
    """A recording forward proxy, with every proxy variable of the environment cleared first."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    with forward_proxy() as running:
        yield running


def _calls(mode: str, platform: LocalPlatform, name: str, **options: Any) -> str:
    """A register (POST) and a get (GET) through Cxpa, AsyncCxpa or AsyncCxpa on aiohttp with `options`; the run id."""
    agent = platform.add_agent(name)
    if mode == "sync":
        with Cxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key, **options) as client:
            run_id = client.register_run(agent.id, f"ext-{name}").run_id
            assert client.get_run(agent.id, run_id).run_id == run_id
            return run_id

    if mode == "aiohttp":
        pytest.importorskip("aiohttp")
        options["http_backend"] = "aiohttp"

    async def flow() -> str:
        async with AsyncCxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key, **options) as client:
            run_id = (await client.register_run(agent.id, f"ext-{name}")).run_id
            assert (await client.get_run(agent.id, run_id)).run_id == run_id
            return run_id

    return asyncio.run(flow())


@pytest.mark.parametrize("mode", MODES)
def test_http_proxy_from_the_environment_carries_the_calls(
    mode: str, proxy: ForwardProxy, cxpa_platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With HTTP_PROXY set, the SDK's own pool sends every request through the proxy."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    run_id = _calls(mode, cxpa_platform, f"proxy-env-{mode}")
    assert [method for method, _, _ in proxy.seen] == ["POST", "GET"]
    assert proxy.seen[0][1].startswith(cxpa_platform.base_url + "/api/agents/")
    assert proxy.paths[1].endswith(f"/runs/{run_id}")


@pytest.mark.parametrize("mode", MODES)
def test_all_proxy_from_the_environment_carries_the_calls(
    mode: str, proxy: ForwardProxy, cxpa_platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ALL_PROXY (lower case, as curl spells it) is honoured like HTTP_PROXY."""
    monkeypatch.setenv("all_proxy", proxy.url)
    _calls(mode, cxpa_platform, f"proxy-all-{mode}")
    assert len(proxy.seen) == 2


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "*", "localhost,127.0.0.1"])
@pytest.mark.parametrize("mode", MODES)
def test_no_proxy_bypasses_the_proxy(
    mode: str, no_proxy: str, proxy: ForwardProxy, cxpa_platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NO_PROXY naming the platform's host (or `*`) sends straight to it, past HTTP_PROXY."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", no_proxy)
    _calls(mode, cxpa_platform, f"proxy-bypass-{mode}-{len(no_proxy)}")
    assert proxy.seen == []


def test_no_proxy_for_another_host_keeps_the_proxy(
    proxy: ForwardProxy, cxpa_platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A NO_PROXY that names other hosts does not bypass the proxy for the platform's."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "example.com,10.0.0.0/8")
    _calls("sync", cxpa_platform, "proxy-other-no-proxy")
    assert len(proxy.seen) == 2


@pytest.mark.parametrize("mode", MODES)
def test_trust_env_false_ignores_the_environment(
    mode: str, proxy: ForwardProxy, cxpa_platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """trust_env=False sends straight to the platform whatever HTTP_PROXY says."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    _calls(mode, cxpa_platform, f"proxy-trust-env-{mode}", trust_env=False)
    assert proxy.seen == []


@pytest.mark.parametrize("mode", MODES)
def test_proxy_argument_carries_the_calls_and_wins_over_no_proxy(
    mode: str, proxy: ForwardProxy, cxpa_platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """proxy= sends every request through it, NO_PROXY notwithstanding (as httpx2's proxy= does)."""
    monkeypatch.setenv("NO_PROXY", "*")
    _calls(mode, cxpa_platform, f"proxy-argument-{mode}", proxy=proxy.url)
    assert len(proxy.seen) == 2


def test_proxy_credentials_are_sent_to_the_proxy_and_never_shown(
    proxy: ForwardProxy, cxpa_platform: LocalPlatform
) -> None:
    """A proxy URL's user and password go to the proxy as Proxy-Authorization, and show in no repr."""
    with_credentials = proxy.url.replace("http://", "http://user:proxy-s3cret@")
    agent = cxpa_platform.add_agent("proxy-credentials")
    with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key, proxy=with_credentials) as c:
        c.register_run(agent.id, "ext-proxy-credentials")
        assert "proxy-s3cret" not in repr(c)
    assert proxy.seen[0][2] is not None
    assert proxy.seen[0][2].startswith("Basic ")


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_agent_client_honours_http_proxy_and_no_proxy(
    mode: str, proxy: ForwardProxy, cxpa_platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AgentClient and AsyncAgentClient send their callbacks through HTTP_PROXY, and past it with NO_PROXY."""
    agent = cxpa_platform.add_agent(f"proxy-agent-{mode}")
    with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key, trust_env=False) as c:
        run_ids = [c.register_run(agent.id, f"ext-proxy-agent-{mode}-{n}").run_id for n in range(2)]
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    options = {"base_url": cxpa_platform.base_url, "api_key": cxpa_platform.agent_api_key(agent.id)}

    def report(run_id: str) -> None:
        if mode == "sync":
            with AgentClient(run_id=run_id, **options) as runtime:
                runtime.complete({"ok": True})
            return

        async def flow() -> None:
            async with AsyncAgentClient(run_id=run_id, **options) as runtime:
                await runtime.complete({"ok": True})

        asyncio.run(flow())

    report(run_ids[0])
    assert [path.rsplit("/", 1)[-1] for path in proxy.paths] == ["callback", "callback"]
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    report(run_ids[1])
    assert len(proxy.seen) == 2
    assert cxpa_platform.run(run_ids[1])["status"] == "completed"


def test_proxy_with_a_brought_http_client_is_refused() -> None:
    """proxy= with http_client= is an InvalidArgumentError: the brought client has its own proxies."""
    with httpx2.Client() as http, pytest.raises(InvalidArgumentError, match="http_client= brings another"):
        Cxpa(base_url="http://127.0.0.1:9", ingest_api_key="k", http_client=http, proxy="http://127.0.0.1:8")
    with pytest.raises(InvalidArgumentError, match="http_client= brings another"):
        AgentClient(
            base_url="http://127.0.0.1:9",
            api_key="k",
            run_id="run_1",
            http_client=httpx2.Client(),
            proxy="http://127.0.0.1:8",
        )


def test_aiohttp_backend_sends_proxy_credentials_and_never_shows_them(
    proxy: ForwardProxy, cxpa_platform: LocalPlatform
) -> None:
    """On aiohttp too, a proxy URL's user and password go to the proxy as Proxy-Authorization only."""
    pytest.importorskip("aiohttp")
    with_credentials = proxy.url.replace("http://", "http://user:proxy-s3cret@")
    run_id = _calls("aiohttp", cxpa_platform, "proxy-credentials-aiohttp", proxy=with_credentials)
    assert [auth for _, _, auth in proxy.seen] == ["Basic dXNlcjpwcm94eS1zM2NyZXQ="] * 2
    assert proxy.paths[1].endswith(f"/runs/{run_id}")


def test_a_socks_proxy_with_the_aiohttp_backend_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The aiohttp backend has no SOCKS: a socks5:// proxy, given or from ALL_PROXY, is refused, never ignored."""
    pytest.importorskip("aiohttp")
    options: dict[str, Any] = {"base_url": "http://127.0.0.1:9", "ingest_api_key": "k", "http_backend": "aiohttp"}
    with pytest.raises(InvalidArgumentError, match="proxy= is a socks5:// proxy") as given:
        AsyncCxpa(**options, proxy="socks5://user:pw-s3cret@127.0.0.1:8")
    assert "pw-s3cret" not in str(given.value)
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:8")
    with pytest.raises(InvalidArgumentError, match=r"ALL_PROXY is a socks5:// proxy.*trust_env=False"):
        AsyncCxpa(**options)
    AsyncCxpa(**options, trust_env=False)


def test_an_unusable_proxy_url_is_refused_without_showing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy of an unknown scheme, given or from the environment, is refused before a call; no credential shown."""
    with pytest.raises(InvalidArgumentError, match="proxy= is not usable") as given:
        Cxpa(base_url="http://127.0.0.1:9", ingest_api_key="k", proxy="ftp://user:pw-s3cret@127.0.0.1:8")
    assert "pw-s3cret" not in str(given.value)
    monkeypatch.setenv("HTTP_PROXY", "ftp://user:pw-s3cret@127.0.0.1:8")
    with pytest.raises(InvalidArgumentError, match="HTTP_PROXY") as from_env:
        Cxpa(base_url="http://127.0.0.1:9", ingest_api_key="k")
    assert "pw-s3cret" not in str(from_env.value)
    Cxpa(base_url="http://127.0.0.1:9", ingest_api_key="k", trust_env=False).close()


def test_trust_env_must_be_a_bool() -> None:
    """trust_env="no" (a truthy str) is refused rather than read as True."""
    with pytest.raises(TypeError, match="trust_env must be a bool"):
        Cxpa(base_url="http://127.0.0.1:9", ingest_api_key="k", trust_env="no")  # type: ignore[arg-type]
