"""MkDocs hook: render `cxpa --help` and every subcommand's help into docs/reference/cli.md.

The text comes from the real parser (`cxpa_sdk._cli._main.build_parser`), formatted at a fixed
width, so the reference page cannot drift from the command. The page holds a marker comment that
this hook replaces; a page without it fails the build.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

PAGE = "reference/cli.md"
MARKER = "<!-- cxpa-cli-reference -->"
WIDTH = 80  # what a code block of the Material theme shows without scrolling


def _subcommands(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Each subcommand's (name, parser) of `parser`, in the order they were added."""
    for action in parser._actions:  # argparse has no public way to list subparsers
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def _help(parser: argparse.ArgumentParser) -> str:
    """The parser's --help text at WIDTH columns, whatever the terminal's size."""

    def formatter(prog: str) -> argparse.HelpFormatter:
        return argparse.HelpFormatter(prog, width=WIDTH)

    parser.formatter_class = formatter
    return parser.format_help()


def _sections(parser: argparse.ArgumentParser, level: int) -> Iterator[str]:
    """A heading and a help block for `parser`, then the same for each of its subcommands."""
    yield f"{'#' * level} `{parser.prog}`\n\n```text\n{_help(parser).rstrip()}\n```\n"
    for _name, sub in _subcommands(parser):
        yield from _sections(sub, min(level + 1, 3))


def render() -> str:
    """The markdown of every command's help, `cxpa` first."""
    from cxpa_sdk._cli._main import build_parser  # noqa: PLC0415 - imported when the page is built

    return "\n".join(_sections(build_parser(), 2))


def on_page_markdown(markdown: str, page: Any, **_kwargs: Any) -> str:
    """Replace the marker of the CLI reference page with the rendered help."""
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise ValueError(f"{PAGE} lost its marker {MARKER}: the CLI reference would be empty")
    return markdown.replace(MARKER, render())
