"""The public surface: a curated __all__, sync/async parity, and a light `import cxpa_sdk`."""

import inspect
import re
import subprocess
import sys

import pytest

import cxpa_sdk
from cxpa_sdk import aio

PAIRS = [
    (cxpa_sdk.Cxpa, cxpa_sdk.AsyncCxpa),
    (cxpa_sdk.AgentClient, cxpa_sdk.AsyncAgentClient),
    (cxpa_sdk.Download, cxpa_sdk.AsyncDownload),
    (cxpa_sdk.RunHandle, cxpa_sdk.AsyncRunHandle),
]
# The sync name of each async-only spelling.
RENAMED = {"aclose": "close", "__aenter__": "__enter__", "__aexit__": "__exit__"}
# What only the async side has on purpose, by (class, method): the aiohttp backend is async only.
ASYNC_ONLY = {("AsyncCxpa", "__init__"): {"http_backend"}, ("AsyncAgentClient", "__init__"): {"http_backend"}}
SEED = [
    "trigger_run",
    "trigger_run_and_wait",
    "trigger_run_and_download",
    "register_run",
    "ingest_run",
    "create_agent_client",
]


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    """The public methods, the constructor and the context-manager dunders of a class, by sync name."""
    found = {}
    for name, member in inspect.getmembers(cls):
        if name.startswith("_") and name not in RENAMED and name not in RENAMED.values() and name != "__init__":
            continue
        if callable(member):
            found[RENAMED.get(name, name)] = inspect.signature(member)
    return found


def modulo_awaitables(annotation: object) -> str:
    """An annotation as its sync twin reads it: `AsyncX` is `X`, `Awaitable[T]` is `T`."""
    text = re.sub(r"\bAsync(?=[A-Z])", "", str(annotation))
    while (unwrapped := re.sub(r"\bAwaitable\[([^\[\]]*(?:\[[^\[\]]*\])*[^\[\]]*)\]", r"\1", text)) != text:
        text = unwrapped
    return " | ".join(dict.fromkeys(_union_members(text)))  # `X | Awaitable[X]` reads as `X`


def _union_members(text: str) -> list[str]:
    """The members of a union written with `|`, split at the top level only."""
    members, depth, start = [], 0, 0
    for at, char in enumerate(text):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "|" and depth == 0:
            members.append(text[start:at].strip())
            start = at + 1
    return [*members, text[start:].strip()]


def described(signature: inspect.Signature, skip: set[str]) -> list[tuple[str, object, str, str]]:
    """Each parameter's name, kind, default and annotation (modulo awaitables), then the return annotation."""
    parameters = [
        (name, p.kind, repr(p.default), modulo_awaitables(p.annotation))
        for name, p in signature.parameters.items()
        if name not in skip
    ]
    return [*parameters, ("return", None, "", modulo_awaitables(signature.return_annotation))]


@pytest.mark.parametrize(("sync_cls", "async_cls"), PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_sync_and_async_twins_match(sync_cls: type, async_cls: type) -> None:
    """Each sync/async pair has the same methods: names, parameter kinds, defaults, annotations (modulo awaitables)."""
    sync_methods, async_methods = public_methods(sync_cls), public_methods(async_cls)
    assert set(sync_methods) == set(async_methods)
    for name, signature in sync_methods.items():
        only_async = ASYNC_ONLY.get((async_cls.__name__, name), set())
        assert described(signature, set()) == described(async_methods[name], only_async), name


def test_modulo_awaitables_reads_an_async_annotation_as_its_twin() -> None:
    """The comparison above sees through awaitables and Async names, and nothing else."""
    async_side = "Callable[[], Awaitable[str]] | AsyncIterator[Awaitable[dict[str, int]]]"
    assert modulo_awaitables(async_side) == "Callable[[], str] | Iterator[dict[str, int]]"
    assert modulo_awaitables("Asynchronous | AsyncCxpa") == "Asynchronous | Cxpa"
    assert modulo_awaitables("str | Callable[[], str] | Callable[[], Awaitable[str]] | None") == (
        "str | Callable[[], str] | None"
    )


def test_module_functions_match_the_seed_in_both_flavours() -> None:
    """The six seed operations exist sync in cxpa_sdk and async in cxpa_sdk.aio, with the same parameters."""
    for name in SEED:
        sync_fn, async_fn = getattr(cxpa_sdk, name), getattr(aio, name)
        assert list(inspect.signature(sync_fn).parameters) == list(inspect.signature(async_fn).parameters), name
        assert all(p.kind is p.KEYWORD_ONLY for p in inspect.signature(sync_fn).parameters.values()), name


def test_all_is_sorted_complete_and_documented() -> None:
    """__all__ is sorted in its parts, names only what exists, and every public name has a docstring.

    The parts: the package's own names, then the error tree's and the seed operations' (each module's
    own __all__, spliced in).
    """
    names = [n for n in cxpa_sdk.__all__ if n != "__version__"]
    spliced = [*cxpa_sdk._errors.__all__, *cxpa_sdk._functions.__all__]
    own = cxpa_sdk.__all__[: -len(spliced)]
    assert cxpa_sdk.__all__ == [*own, *spliced]
    assert own == sorted(own)
    assert cxpa_sdk._errors.__all__ == sorted(cxpa_sdk._errors.__all__)
    assert cxpa_sdk._functions.__all__ == sorted(cxpa_sdk._functions.__all__) == sorted(SEED)
    assert len(set(cxpa_sdk.__all__)) == len(cxpa_sdk.__all__)
    public = {n for n in dir(cxpa_sdk) if n.isidentifier() and not n.startswith("_")}
    public -= {
        "aio",
        "types",
        "hooks",
        "testing",
        "runtime",
        "ray",
        "pytest_plugin",
        "otel",
    }  # public modules, once imported
    assert public == set(names)
    for name in names:
        assert inspect.getdoc(getattr(cxpa_sdk, name)), name


def test_exported_classes_read_as_the_package() -> None:
    """Exported classes say `cxpa_sdk.Cxpa` in reprs and tracebacks, not the private module."""
    assert cxpa_sdk.Cxpa.__module__ == "cxpa_sdk"
    assert repr(cxpa_sdk.NotFoundError) == "<class 'cxpa_sdk.NotFoundError'>"


def test_every_error_is_a_cxpa_error() -> None:
    """One tree: every exported exception derives from CxpaError."""
    exported = [getattr(cxpa_sdk, n) for n in cxpa_sdk.__all__]
    errors = [e for e in exported if isinstance(e, type) and issubclass(e, BaseException)]
    # Every class of the tree is exported (adding one to _errors.__all__ exports it too); RunFailedError,
    # which holds a Run, is defined beside it in `types`.
    assert {e.__name__ for e in errors} == {*cxpa_sdk._errors.__all__, "RunFailedError"}
    assert all(issubclass(e, cxpa_sdk.CxpaError) for e in errors)


def test_import_is_light() -> None:
    """`import cxpa_sdk` loads no CLI, platform, runtime host, Starlette, uvicorn, generated client, asyncio or OTel.

    (httpx itself imports rich when it is installed; that is measured against `import httpx` in benchmarks.)
    """
    heavy = (
        "starlette",
        "uvicorn",
        "cxpa_sdk.testing",
        "cxpa_sdk.runtime",
        "cxpa_sdk._cli",
        "cxpa_api",
        "asyncio",
        "opentelemetry",
    )
    code = f"import sys, cxpa_sdk; print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"
