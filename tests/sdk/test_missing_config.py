"""MissingConfigError names every missing setting at once; help() on the functions reads cleanly."""

import asyncio
import pydoc
from collections.abc import Callable
from typing import Any

import pytest

import cxpa_sdk
from cxpa_sdk import AsyncCxpa, Cxpa, MissingConfigError, aio


def build_sync(**options: Any) -> None:
    """Build (and close) a Cxpa."""
    Cxpa(**options).close()


def build_async(**options: Any) -> None:
    """Build (and close) an AsyncCxpa, on an event loop."""

    async def build() -> None:
        await AsyncCxpa(**options).aclose()

    asyncio.run(build())


def call_function(**options: Any) -> None:
    """Call a module function, which builds its own client."""
    cxpa_sdk.trigger_run(agent_id=1, input={}, **options)


BUILDERS = [build_sync, build_async, call_function]
BUILDER_IDS = ["Cxpa", "AsyncCxpa", "trigger_run"]


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither CXPA_API_URL nor CXPA_INGEST_KEY is set."""
    monkeypatch.delenv("CXPA_API_URL", raising=False)
    monkeypatch.delenv("CXPA_INGEST_KEY", raising=False)


@pytest.mark.usefixtures("bare_env")
@pytest.mark.parametrize("build", BUILDERS, ids=BUILDER_IDS)
def test_nothing_set_names_both_settings_in_one_error(build: Callable[..., None]) -> None:
    """With nothing set, one MissingConfigError names base_url and ingest_api_key and both variables."""
    with pytest.raises(MissingConfigError) as caught:
        build()
    error = caught.value
    assert error.arguments == ("base_url", "ingest_api_key")
    assert error.env_vars == ("CXPA_API_URL", "CXPA_INGEST_KEY")
    assert (error.argument, error.env_var) == ("base_url", "CXPA_API_URL")  # the first, as before
    assert str(error) == (
        "base_url and ingest_api_key are required: pass base_url=... and ingest_api_key=..., "
        "or set CXPA_API_URL and CXPA_INGEST_KEY"
    )
    assert error.attempts == 0
    assert error.applied is False


@pytest.mark.usefixtures("bare_env")
@pytest.mark.parametrize("build", BUILDERS, ids=BUILDER_IDS)
@pytest.mark.parametrize(
    ("given", "argument", "env_var"),
    [
        ({"base_url": "http://127.0.0.1:9"}, "ingest_api_key", "CXPA_INGEST_KEY"),
        ({"ingest_api_key": "k"}, "base_url", "CXPA_API_URL"),
    ],
    ids=["key-missing", "url-missing"],
)
def test_one_missing_setting_is_named_alone(
    build: Callable[..., None], given: dict[str, str], argument: str, env_var: str
) -> None:
    """With one of the two given, the error names only the other (one argument, one variable)."""
    with pytest.raises(MissingConfigError) as caught:
        build(**given)
    assert caught.value.arguments == (argument,)
    assert caught.value.env_vars == (env_var,)
    assert str(caught.value) == f"{argument} is required: pass {argument}=... or set {env_var}"


@pytest.mark.usefixtures("bare_env")
def test_environment_variables_count_as_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """A setting found in its environment variable is not reported missing; an empty variable is."""
    monkeypatch.setenv("CXPA_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("CXPA_INGEST_KEY", "")
    with pytest.raises(MissingConfigError) as caught:
        Cxpa()
    assert caught.value.arguments == ("ingest_api_key",)


@pytest.mark.parametrize(
    "function",
    [cxpa_sdk.ingest_run, aio.ingest_run, Cxpa.ingest_run, cxpa_sdk.AgentClient.waiting],
    ids=["ingest_run", "aio.ingest_run", "Cxpa.ingest_run", "AgentClient.waiting"],
)
def test_help_shows_a_readable_default_for_output(function: Callable[..., Any]) -> None:
    """help() shows `output: Any = <not given>`, not `<object object at 0x...>`."""
    text = pydoc.plain(pydoc.render_doc(function))
    assert "output: 'Any' = <not given>" in text or "output: Any = <not given>" in text
    assert "object at 0x" not in text
