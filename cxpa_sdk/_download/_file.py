"""Where a download is saved: the target path, a temporary file beside it, and the atomic move into place.

The target is complete or absent: the body goes to `.<name>.<8 hex>.part` in the target's folder,
which is renamed (or hard-linked under a free numbered name, when the name came from the server
and is taken) only once the body is proven whole. Every local failure is a LocalFileError naming
the run and the path.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from typing import IO

from .._errors import LocalFileError
from ._body import DownloadInfo
from ._filenames import MAX_FILENAME_BYTES, fit_bytes, numbered


def target_path(path_or_folder: str | os.PathLike[str], filename: str) -> tuple[Path, bool]:
    """Where `save` writes, and whether the name there is the server's (a folder target).

    A folder, or a path that ends with a separator (`reports/`, created with its parents when
    missing, never written as a file named `reports`), gets the server's safe filename; any other
    path is the file's own.
    """
    text = os.fspath(path_or_folder)
    target = Path(text)
    if text.endswith(("/", os.sep)) or (os.altsep is not None and text.endswith(os.altsep)):
        target.mkdir(parents=True, exist_ok=True)
        return target / filename, True
    return (target / filename, True) if target.is_dir() else (target, False)


def local_error(info: DownloadInfo, path: str | os.PathLike[str], exc: OSError) -> LocalFileError:
    """The typed error for a file that could not be written: the run happened, and says so."""
    return LocalFileError(
        f"run {info.run_id}: its file could not be saved to {os.fspath(path)}: {exc.strerror or exc}",
        path=os.fspath(path),
        errno=exc.errno,
        **info.facts(),
    )


_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
_TEMP_SUFFIX_BYTES = len(".12345678.part")


class _Temp:
    """A temporary file beside the target, renamed into place when complete and removed otherwise.

    Its name, `.<target name>.<8 hex>.part`, fits the filesystem's 255 bytes whatever the target's
    name; it is created with mode 0666 less the umask, as `open()` creates a file, so the saved file
    gets the mode any other tool would give it (mkstemp's 0600 would not).
    """

    def __init__(self, target: Path, *, fsync: bool) -> None:
        stem = fit_bytes(target.name, MAX_FILENAME_BYTES - 1 - _TEMP_SUFFIX_BYTES)
        for _ in range(100):
            self.path = target.parent / f".{stem}.{os.urandom(4).hex()}.part"
            try:
                fd = os.open(self.path, _TEMP_FLAGS, 0o666)
            except FileExistsError:
                continue
            break
        else:
            raise FileExistsError(f"no free temporary name beside {target}")
        self.file: IO[bytes] = os.fdopen(fd, "wb", buffering=0)
        self.fsync = fsync

    def finish(self, target: Path, *, replace: bool) -> Path:
        """Put the complete file in place: at `target` (replacing it), or at the first free `numbered` name."""
        if self.fsync:
            os.fsync(self.file.fileno())
        self.file.close()
        final = target
        if replace:
            os.replace(self.path, target)
        else:
            final = self._place_new(target)
        if self.fsync:
            _fsync_folder(final.parent)
        return final

    def _place_new(self, target: Path) -> Path:
        """Link the file in under a name nobody has (a hard link never replaces), then drop the temporary name."""
        for number in range(1000):
            candidate = target if number == 0 else numbered(target, number)
            try:
                os.link(self.path, candidate)
            except FileExistsError:
                continue
            except OSError:  # a filesystem without hard links: check, then rename (not atomic there)
                if os.path.lexists(candidate):
                    continue
                os.replace(self.path, candidate)
                return candidate
            os.unlink(self.path)
            return candidate
        raise FileExistsError(errno.EEXIST, "1000 names like it are taken", str(target))

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class Saving:
    """One `save`: its target, its temporary file, and every local failure as a LocalFileError.

    The sync and async `save` differ only in how they read the body and where it is finished (`afinish`).
    """

    def __init__(
        self, info: DownloadInfo, path_or_folder: str | os.PathLike[str], *, fsync: bool, overwrite: bool
    ) -> None:
        self._info = info
        try:
            self._target, named_by_server = target_path(path_or_folder, info.filename)
            self._temp = _Temp(self._target, fsync=fsync)
        except OSError as exc:
            raise local_error(info, path_or_folder, exc) from None
        self._replace = overwrite or not named_by_server

    def write(self, chunk: bytes) -> None:
        """Append the next bytes of the file."""
        try:
            self._temp.file.write(chunk)
        except OSError as exc:
            raise local_error(self._info, self._target, exc) from None

    def finish(self) -> Path:
        """Put the complete file in place; the path it has."""
        try:
            return self._temp.finish(self._target, replace=self._replace)
        except OSError as exc:
            raise local_error(self._info, self._target, exc) from None

    async def afinish(self) -> Path:
        """`finish`, off the event loop: the final close, sync and rename wait for the disk in a thread."""
        import asyncio  # noqa: PLC0415 - only async users pay for importing asyncio

        return await asyncio.to_thread(self.finish)

    def discard(self) -> None:
        """Remove the temporary file (the target is left as it was)."""
        self._temp.discard()


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX; Windows cannot open a folder for syncing)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
