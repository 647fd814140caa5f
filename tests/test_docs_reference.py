"""The site's API reference (docs/reference/, built by `tox -e docs`) covers every public name.

Each reference page renders the names of one public module one by one, with a `::: module.name`
directive each (mkdocstrings). A page may also render its module's docstring with `::: module` and
`members: false`, which renders no member: so every name of each module's `__all__` must have its
own directive, and every directive must name something in `__all__`. A name added to `__all__`
without a directive fails here, before any build (`mkdocs build --strict` then fails on a directive
whose name griffe cannot find). The CLI reference is rendered from the real parser by
docs/hooks/cli_reference.py: this file checks it renders every command.
"""

import importlib
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference"
PUBLIC_MODULES = [
    "cxpa_sdk",
    "cxpa_sdk.types",
    "cxpa_sdk.aio",
    "cxpa_sdk.testing",
    "cxpa_sdk.runtime",
    "cxpa_sdk.ray",
]
DIRECTIVE = re.compile(r"^::: (?P<identifier>\S+)\n(?P<options>(?:(?: {4}.*)?\n)*)", re.MULTILINE)


def directives() -> dict[str, str]:
    """Each `::: identifier` of the reference pages -> its options block (empty when it has none)."""
    found: dict[str, str] = {}
    for page in sorted(REFERENCE.glob("*.md")):
        for match in DIRECTIVE.finditer(page.read_text(encoding="utf-8")):
            assert match["identifier"] not in found, f"{match['identifier']} is rendered twice ({page.name})"
            found[match["identifier"]] = match["options"]
    return found


def uncovered(module: str, names: list[str], rendered: set[str]) -> list[str]:
    """The names of `module.__all__` that no directive renders."""
    return [name for name in names if f"{module}.{name}" not in rendered]


def test_every_public_name_has_its_directive() -> None:
    """Each name of each public module's `__all__` has its `::: module.name` on a reference page."""
    rendered = set(directives())
    missing = {
        module: uncovered(module, importlib.import_module(module).__all__, rendered) for module in PUBLIC_MODULES
    }
    assert missing == {module: [] for module in PUBLIC_MODULES}, "add a `::: module.name` to docs/reference/"


def test_every_directive_names_a_public_name() -> None:
    """The reference renders the public modules and their `__all__`, nothing private."""
    modules: dict[str, ModuleType] = {name: importlib.import_module(name) for name in PUBLIC_MODULES}
    for identifier in directives():
        if identifier in modules:
            continue
        module, _, name = identifier.rpartition(".")
        assert module in modules, f"{identifier}: not a name of a public module"
        assert name in modules[module].__all__, f"{identifier}: not in {module}.__all__"


def test_a_module_directive_renders_no_member() -> None:
    """`::: module` shows the module's docstring only: its names are the ones the test above counts."""
    found = directives()
    for module in PUBLIC_MODULES:
        if module in found:
            assert "members: false" in found[module], f"`::: {module}` must set `members: false`"


def test_the_check_notices_a_name_without_a_directive() -> None:
    """A name added to `__all__` with no directive is reported (the check is not vacuous)."""
    names = [*importlib.import_module("cxpa_sdk.ray").__all__, "NewName"]
    assert uncovered("cxpa_sdk.ray", names, set(directives())) == ["NewName"]


def test_every_reference_page_is_in_the_nav() -> None:
    """No reference page is left out of mkdocs.yml's nav."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in sorted(REFERENCE.glob("*.md")):
        assert f"reference/{page.name}" in config, f"mkdocs.yml's nav lacks reference/{page.name}"


@pytest.fixture(scope="module")
def cli_reference() -> ModuleType:
    """docs/hooks/cli_reference.py, loaded as the build loads it."""
    spec = importlib.util.spec_from_file_location("cli_reference", ROOT / "docs" / "hooks" / "cli_reference.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cli_reference_renders_every_command(cli_reference: ModuleType) -> None:
    """The hook renders `cxpa`'s help and each command's, at most WIDTH columns wide."""
    from cxpa_sdk._cli._main import build_parser  # noqa: PLC0415

    page = (REFERENCE / "cli.md").read_text(encoding="utf-8")
    assert cli_reference.MARKER in page
    text = cli_reference.render()
    progs = [sub.prog for _name, sub in cli_reference._subcommands(build_parser())]
    assert len(progs) >= 12
    for prog in ["cxpa", *progs, "cxpa runtime serve"]:
        assert f"# `{prog}`\n\n```text\nusage: {prog} " in text
    assert max(len(line) for line in text.splitlines()) <= cli_reference.WIDTH
