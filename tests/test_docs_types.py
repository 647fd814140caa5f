"""Every Python example in README.md, docs/*.md and examples/ passes `mypy --strict` and pyright in strict mode.

Each ```python block is written to a temporary directory as a module of its own and both checkers
run over all of them at once. A block that is a fragment (it uses names an earlier sentence set up)
gets its context from an HTML comment right above its fence, which readers do not see:

    <!-- typecheck-preamble
    from cxpa_sdk.testing import LocalPlatform
    platform = LocalPlatform()
    -->

The preamble's lines are prepended to the block before it is checked. A block whose first line is
`# examples/<name>.py` is an excerpt of that file (often from the middle of a function): it is not
checked as a module; a test checks that it is in that file word for word, and the file itself is
checked with the blocks (tests/forwarding and tests/test_examples run the files).
Skipped, with the reason, only where pyright is not installed (the tox `typing` env installs it).
"""

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
# docs/ray.md's blocks call Ray, whose own annotations pyright strict finds partially unknown (ray.init,
# Dataset.map_batches), and the typing env does not install the `ray` extra: tests/ray runs its API instead.
UNCHECKED = {ROOT / "docs" / "ray.md"}
DOCS = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").glob("*.md") if p not in UNCHECKED)]
BLOCK = re.compile(r"(?:<!-- typecheck-preamble\n(?P<preamble>.*?)-->\n)?```python\n(?P<code>.*?)```", re.DOTALL)
EXCERPT = re.compile(r"# (?P<path>examples/\w+\.py)\n")
PYRIGHT = shutil.which("pyright", path=str(Path(sys.executable).parent)) or shutil.which("pyright")


def blocks() -> dict[str, str]:
    """Module name -> source, one per ```python block but the excerpts, its preamble (if any) first."""
    found = {}
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start("code")) + 1
            name = f"{doc.stem.lower()}_line{line}"
            if not EXCERPT.match(match["code"]):
                found[name] = (match["preamble"] or "") + match["code"]
    return found


def excerpts() -> list[tuple[str, str]]:
    """(the quoted file's path, the excerpt) for every block that quotes an example file."""
    found = []
    for doc in DOCS:
        for match in BLOCK.finditer(doc.read_text(encoding="utf-8")):
            if excerpt := EXCERPT.match(match["code"]):
                found.append((excerpt["path"], match["code"][excerpt.end() :]))
    return found


@pytest.fixture(scope="module")
def modules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with each block as a module, and a copy of each example file."""
    where = tmp_path_factory.mktemp("doc_blocks")
    for name, code in blocks().items():
        (where / f"{name}.py").write_text(code, encoding="utf-8")
    for example in EXAMPLES:
        (where / f"example_{example.name}").write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    return where


def test_the_docs_have_python_blocks() -> None:
    """The extraction finds the README's and the guides' examples (this test notices if it finds none)."""
    names = blocks()
    assert sum(name.startswith("readme_") for name in names) >= 7
    assert len(names) >= 15
    assert {"forward_django.py", "agent_runtime.py", "trigger_run_and_wait.py"} <= {path.name for path in EXAMPLES}


@pytest.mark.parametrize(("path", "excerpt"), excerpts(), ids=[path for path, _ in excerpts()])
def test_excerpts_quote_their_file(path: str, excerpt: str) -> None:
    """A block that names an example file quotes it as it is (so checking the file checks the block)."""
    assert excerpt in (ROOT / path).read_text(encoding="utf-8")


@pytest.mark.skipif(
    importlib.util.find_spec("mypy") is None, reason="mypy is not installed (it is in the `typing` dependency group)"
)
def test_docs_pass_mypy_strict(modules: Path) -> None:
    """`mypy --strict` reports nothing in any block."""
    config = modules / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\npython_version = 3.11\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir", str(modules / ".mypy_cache"), "."],
        cwd=modules,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(PYRIGHT is None, reason="pyright is not installed (it is in the `typing` dependency group)")
def test_docs_pass_pyright_strict(modules: Path) -> None:
    """Pyright in strict mode reports nothing in any block."""
    assert PYRIGHT is not None
    config = {"typeCheckingMode": "strict", "pythonVersion": "3.11", "exclude": [".mypy_cache"]}
    (modules / "pyrightconfig.json").write_text(json.dumps(config), encoding="utf-8")
    done = subprocess.run(
        [PYRIGHT, "--pythonpath", sys.executable, "."],
        cwd=modules,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
