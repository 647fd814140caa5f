"""Transport security: TLS verified by default, a custom CA accepted, plain http only to this machine."""

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
import uvicorn

from cxpa_sdk import APIConnectionError, Cxpa, InvalidArgumentError
from cxpa_sdk.testing import ECHO, LocalPlatform

# uvicorn starts in well under a second; the bounds are for a loaded machine.
SERVER_START_TIMEOUT_S = 30.0
SERVER_STOP_TIMEOUT_S = 10.0


@pytest.fixture(scope="module")
def tls_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalPlatform, str, Path]]:
    """The local platform behind TLS with a certificate from a throwaway CA: (platform, https URL, CA file)."""
    import threading  # noqa: PLC0415
    import time  # noqa: PLC0415

    folder = tmp_path_factory.mktemp("tls")
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1", "localhost")
    certificate.private_key_and_cert_chain_pem.write_to_path(str(folder / "server.pem"))
    authority.cert_pem.write_to_path(str(folder / "ca.pem"))
    platform = LocalPlatform()
    with platform.serve():  # binds the runtimes' callbacks to a plain loopback URL
        config = uvicorn.Config(
            platform.app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            ssl_certfile=str(folder / "server.pem"),
            timeout_graceful_shutdown=1,  # open connections get a second at the stop, as in LocalPlatform.serve()
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        started_by = time.monotonic() + SERVER_START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive():
                pytest.fail("the TLS server's thread ended before it started serving")
            if time.monotonic() > started_by:
                server.should_exit = True
                pytest.fail(f"the TLS server did not start within {SERVER_START_TIMEOUT_S:.0f} s")
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield platform, f"https://127.0.0.1:{port}", folder / "ca.pem"
        finally:
            server.should_exit = True
            thread.join(SERVER_STOP_TIMEOUT_S)
            assert not thread.is_alive(), f"the TLS server did not stop within {SERVER_STOP_TIMEOUT_S:.0f} s"


def test_self_signed_server_is_refused_by_default(tls_platform: tuple[LocalPlatform, str, Path]) -> None:
    """A certificate no trusted CA signed is refused: the request was never sent."""
    platform, url, _ = tls_platform
    with Cxpa(base_url=url, ingest_api_key=platform.ingest_key, max_retries=0) as client:
        with pytest.raises(APIConnectionError, match="CERTIFICATE_VERIFY_FAILED") as caught:
            client.trigger_run(ECHO, {})
    assert caught.value.may_have_been_applied is False


def test_custom_ca_bundle_is_accepted(tls_platform: tuple[LocalPlatform, str, Path]) -> None:
    """With verify= the CA bundle (a path, or an SSLContext), the same server is trusted."""
    platform, url, ca_file = tls_platform
    with Cxpa(base_url=url, ingest_api_key=platform.ingest_key, verify=str(ca_file)) as client:
        assert client.trigger_run_and_wait(ECHO, {"tls": True}, timeout_ms=5000).output_data == {"tls": True}
    context = ssl.create_default_context(cafile=str(ca_file))
    with Cxpa(base_url=url, ingest_api_key=platform.ingest_key, verify=context) as client:
        assert client.trigger_run(ECHO, {}).run_id


def test_plain_http_to_another_host_is_refused() -> None:
    """http:// to a host that is not this machine is refused unless allow_insecure=True."""
    with pytest.raises(InvalidArgumentError, match="unencrypted"):
        Cxpa(base_url="http://cxpa.invalid", ingest_api_key="k")
    Cxpa(base_url="http://cxpa.invalid", ingest_api_key="k", allow_insecure=True).close()


def test_ssl_cert_file_is_trusted_by_default(tls_platform: tuple[LocalPlatform, str, Path]) -> None:
    """httpx2's default trust: SSL_CERT_FILE (read when a process builds its first client) before the OS store."""
    import os  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    platform, url, ca_file = tls_platform
    code = (
        "import sys\nfrom cxpa_sdk import Cxpa\n"
        "with Cxpa(base_url=sys.argv[1], ingest_api_key=sys.argv[2], max_retries=0) as client:\n"
        "    print(client.trigger_run(int(sys.argv[3]), {}).run_id)\n"
    )
    args = [sys.executable, "-c", code, url, platform.ingest_key, str(ECHO)]
    env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    trusted = subprocess.run(
        args, env={**env, "SSL_CERT_FILE": str(ca_file)}, capture_output=True, text=True, timeout=60, check=False
    )
    assert trusted.returncode == 0, trusted.stderr
    assert trusted.stdout.startswith("run_")
    untrusted = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert untrusted.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
