"""The wheel ships both packages, typed, with one version, and the generated code stands alone."""

import ast
import importlib.metadata
from pathlib import Path

import cxpa_api
import cxpa_sdk


def package_dir(module: object) -> Path:
    """The folder a package was imported from."""
    return Path(module.__file__).parent  # type: ignore[attr-defined]


def test_version_is_the_distribution_version() -> None:
    """cxpa_sdk.__version__ is the one source of the distribution's version."""
    assert cxpa_sdk.__version__ == importlib.metadata.version("cxpa-sdk")


def test_both_packages_are_typed() -> None:
    """Both top-level packages carry py.typed (PEP 561)."""
    for module in (cxpa_sdk, cxpa_api):
        assert (package_dir(module) / "py.typed").is_file()


def test_wheel_records_both_packages() -> None:
    """The installed distribution lists files of cxpa_sdk and of cxpa_api, and nothing of tests."""
    files = {str(f) for f in importlib.metadata.files("cxpa-sdk") or []}
    assert "cxpa_sdk/__init__.py" in files
    assert "cxpa_api/client.py" in files
    assert not any(f.startswith(("tests/", "generated/")) for f in files)


def test_generated_package_imports_nothing_from_cxpa_sdk() -> None:
    """No module of cxpa_api imports cxpa_sdk: generated code is a dependency, not a workspace."""
    offenders = []
    for path in package_dir(cxpa_api).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "cxpa_sdk"]
    assert offenders == []
    assert len(list(package_dir(cxpa_api).rglob("*.py"))) > 20
