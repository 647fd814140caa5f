"""Filenames from servers: read from Content-Disposition (RFC 6266), made safe, numbered, and written back.

The platform names a file in its Content-Disposition; that name is untrusted text. `safe_filename`
reduces it to something that can only be a plain file in a folder, `numbered` gives the name a
browser picks when the first is taken, and `content_disposition` writes a header a browser reads
back to the same name (ASCII `filename`, plus `filename*` for the rest).
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
import urllib.parse
from pathlib import Path

MAX_FILENAME_BYTES = 255
# The patterns here are strings: `re` compiles each on first use and caches it, so `import cxpa_sdk`
# does not pay for them.
# Controls (C0, DEL, C1), bidirectional overrides and marks (`invoice\u202efdp.exe` shows as
# "invoiceexe.pdf"), and what Windows forbids in a name.
_UNSAFE = r'[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069/\\:*?"<>|]'
# Names Windows reserves for devices, with any extension (`CON.txt` is the console too).
_RESERVED = r"(?i:CON|PRN|AUX|NUL|COM[0-9\u00b9\u00b2\u00b3]|LPT[0-9\u00b9\u00b2\u00b3])(\..*)?"


_PARAM = r';\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)'


def filename_from_disposition(header: str | None) -> str | None:
    """The filename a Content-Disposition names (RFC 6266: `filename*` preferred over `filename`), or None."""
    if not header:
        return None
    params: dict[str, str] = {}
    for name, raw in re.findall(_PARAM, header):
        value = raw.strip()
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params.setdefault(name.lower(), value)
    extended = params.get("filename*")
    if extended and extended.count("'") >= 2:
        charset, _, encoded = extended.split("'", 2)
        with contextlib.suppress(LookupError, UnicodeDecodeError):
            decoded = urllib.parse.unquote(encoded, encoding=charset or "utf-8", errors="strict")
            if decoded:
                return decoded
    return params.get("filename") or None


def safe_filename(name: str | None, fallback: str) -> str:
    """A name that can only ever be a plain file in the target folder.

    Path separators, drive letters, control characters (C0 and C1), bidirectional overrides and
    characters Windows forbids become `_`; leading dots are dropped (no `..`, no hidden files), and
    trailing dots and spaces too (Windows drops them); a name Windows reserves for a device (`CON`,
    `NUL.txt`, `COM1`, ...) gets a leading `_`; the name is cut to 255 bytes keeping its extension;
    an empty result becomes `fallback`.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(_UNSAFE, "_", name).strip().lstrip(".").rstrip(". ").strip()
    if not name:
        return fallback
    if re.fullmatch(_RESERVED, name):
        name = f"_{name}"
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 16:
        stem, ext = name, ""
    if len(name.encode()) > MAX_FILENAME_BYTES:  # cut once, in bytes: a character at a time is quadratic
        tail = f".{ext}" if ext else ""
        name = fit_bytes(stem, MAX_FILENAME_BYTES - len(tail.encode())).rstrip(". ") + tail
    return name or fallback


def fit_bytes(name: str, max_bytes: int) -> str:
    """`name` cut to at most `max_bytes` bytes of UTF-8, never inside a character."""
    return name.encode()[:max_bytes].decode("utf-8", "ignore")


def numbered(target: Path, number: int) -> Path:
    """`report (1).pdf` for `report.pdf` and 1: the name a browser picks when the first is taken, in 255 bytes."""
    stem, dot, ext = target.name.rpartition(".")
    if not dot or not stem or len(ext) > 16:
        stem, ext = target.name, ""
    tail = f" ({number})" + (f".{ext}" if ext else "")
    return target.with_name(fit_bytes(stem, MAX_FILENAME_BYTES - len(tail.encode())) + tail)


# RFC 8187's attr-char, less nothing: what `filename*` may carry unescaped.
_ATTR_CHARS = "!#$&+-.^_`|~"
# The longest header `content_disposition` writes: its words, a 255-byte ASCII name, and a 255-byte
# name percent-encoded (3 bytes each).
MAX_DISPOSITION_BYTES = len("attachment; filename=\"\"; filename*=UTF-8''") + MAX_FILENAME_BYTES * 4


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """A Content-Disposition header that makes a browser save the file under `filename` (RFC 6266).

    The name is made safe first (`safe_filename`: no path, no controls, no bidirectional tricks).
    `filename="..."` carries an ASCII version (accents dropped, other characters and `%` as `_`,
    then made safe as above, so at most 255 bytes) for old clients; when that is not the name itself,
    `filename*=UTF-8''...` carries the exact name, percent-encoded, and browsers prefer it. The
    header is at most MAX_DISPOSITION_BYTES long, whatever the name. `inline=True` asks the
    browser to show the file instead of saving it: only for a type that runs nothing
    (`Download.forward_headers` decides that).

    Examples:
        >>> print(content_disposition("Résumé 2026.pdf"))
        attachment; filename="Resume 2026.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%202026.pdf
    """
    name = safe_filename(filename, "download")
    decomposed = unicodedata.normalize("NFKD", name)
    ascii_name = "".join(c for c in decomposed if not unicodedata.combining(c))
    # NFKD can make one character many (U+FDFA is 18): the ASCII name is cut to 255 bytes as well.
    fallback = safe_filename("".join(c if " " <= c <= "~" and c not in '"\\%' else "_" for c in ascii_name), "download")
    header = f'{"inline" if inline else "attachment"}; filename="{fallback}"'
    if fallback != name:
        header += f"; filename*=UTF-8''{urllib.parse.quote(name, safe=_ATTR_CHARS)}"
    return header
