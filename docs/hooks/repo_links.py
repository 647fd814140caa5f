"""MkDocs hook: links from a guide to a file of the repository outside docs/ become plain text on the site.

The guides are read in the repository too, where `[BENCHMARKS.md](../BENCHMARKS.md)` works; the site
holds only docs/, where such a link would lead nowhere. So on the site the link keeps its text and
loses its target, once the target is checked to exist: a link to a file that is in neither docs/ nor
the repository stays a link, and `mkdocs build --strict` reports it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

# An inline link whose target climbs out of the page's folder: [text](../path) or [text](../path#anchor).
LINK = re.compile(r"\[(?P<text>[^\]\n]+)\]\((?P<target>\.\./[^)\s#]+)(?:#[^)\s]*)?\)")


def on_page_markdown(markdown: str, page: Any, config: Any, **_kwargs: Any) -> str:
    """Replace each link to a repository file outside docs/ with its text."""
    docs = Path(config["docs_dir"]).resolve()
    root = Path(config["config_file_path"]).resolve().parent
    folder = (docs / page.file.src_uri).parent

    def unlink(match: re.Match[str]) -> str:
        target = (folder / match["target"]).resolve()
        if target.is_relative_to(docs) or not target.is_relative_to(root) or not target.exists():
            return match[0]  # a page of the site, or a broken link: MkDocs checks and reports it
        return match["text"]

    return LINK.sub(unlink, markdown)
