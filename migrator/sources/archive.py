"""Read an export as a zip or an unpacked folder, one member at a time.

Exports are customer-supplied files, so the zip is never extracted: members
are streamed, and the archive is refused before anything is read when a
member would escape the export (absolute path, `..`), is encrypted, or
declares sizes that only a zip bomb has. zipfile itself stops reading a member
at its declared size and checks the CRC, so a header that lies about its size
fails on read instead of filling memory.
"""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Protocol

from migrator.model import File, FileStatus, Ignored, SourceError
from migrator.sources.products import ANY_EXPORT

_DRIVE = re.compile(r"^[A-Za-z]:")
_MIB = 1024 * 1024
_NOT_UTF8 = (
    "{what} name is not UTF-8 (shown with U+FFFD for its broken bytes), so no plan or report could name it; "
    "not read: rename it in UTF-8 and run again"
)


@dataclass(frozen=True)
class ZipLimits:
    """What counts as absurd for an export; generous for real exports (tens of GB of uploads)."""

    max_ratio: float = 200.0  # JSON compresses ~5-50x; bombs reach 1000x
    ratio_min_bytes: int = _MIB  # tiny members ("[]") have meaningless ratios
    max_total_bytes: int = 1024**4  # 1 TiB declared in all
    max_members: int = 5_000_000


DEFAULT_ZIP_LIMITS = ZipLimits()


class ExportTree(Protocol):
    """The files of an export, addressed by relative POSIX paths."""

    location: str
    skipped: list[Ignored]

    def names(self) -> list[str]: ...

    def open(self, name: str) -> IO[bytes]: ...

    def read(self, name: str) -> bytes: ...

    def close(self) -> None: ...


def member_of(file: File) -> str:
    """Where a file's bytes are inside the export; FileNotFoundError when the export does not carry them."""
    if file.status is not FileStatus.AVAILABLE or file.path is None:
        raise FileNotFoundError(f"file {file.id} ({file.name}) is not in the export: {file.status}")
    return file.path


def open_tree(path: Path, limits: ZipLimits = ZipLimits(), expected: str = ANY_EXPORT) -> ExportTree:
    """Open a folder or a zip; anything else is a SourceError saying what was `expected` (the reader's
    product's export: `migrator.sources.products`)."""
    if path.is_dir():
        return FolderTree(path)
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder; give {expected}")
    if not zipfile.is_zipfile(path):
        raise SourceError(f"{path}: not a zip archive or a folder; give {expected}")
    return ZipTree(path, limits)


def _check_member_name(archive: Path, name: str) -> str:
    """Normalise a member name, refusing any that would point outside the export."""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or _DRIVE.match(posix):
        raise SourceError(
            f"{archive}: refused, member {name!r} has an absolute path; a genuine export never has one, "
            "so the archive was altered or is not an export"
        )
    if ".." in PurePosixPath(posix).parts or "\x00" in posix:
        raise SourceError(
            f"{archive}: refused, member {name!r} points outside the archive ('..'); "
            "a genuine export never has one, so the archive was altered or is not an export"
        )
    return posix


def _check_sizes(archive: Path, infos: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    """Refuse a zip bomb from its central directory alone, before reading any member."""
    if len(infos) > limits.max_members:
        raise SourceError(
            f"{archive}: refused, {len(infos):,} members is more than any export has ({limits.max_members:,})"
        )
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size >= limits.ratio_min_bytes:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise SourceError(
                    f"{archive}: refused, member {info.filename!r} declares {info.file_size:,} bytes from "
                    f"{info.compress_size:,} compressed (ratio {ratio:,.0f}, limit {limits.max_ratio:,.0f}): "
                    "this looks like a zip bomb; ask for a fresh export"
                )
    if total > limits.max_total_bytes:
        raise SourceError(
            f"{archive}: refused, members declare {total:,} bytes uncompressed in all "
            f"(limit {limits.max_total_bytes:,}); this looks like a zip bomb; ask for a fresh export"
        )


class ZipTree:
    """An export still inside its zip; members are streamed, never extracted to disk."""

    def __init__(self, path: Path, limits: ZipLimits) -> None:
        self.location = str(path)
        self.skipped: list[Ignored] = []
        try:
            self._zip = zipfile.ZipFile(path)
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise SourceError(f"{path}: corrupt zip ({exc}); download the export again") from exc
        try:
            self._members = self._index(path, infos, limits)
        except SourceError:
            self._zip.close()
            raise

    def _index(self, path: Path, infos: list[zipfile.ZipInfo], limits: ZipLimits) -> dict[str, zipfile.ZipInfo]:
        members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = _check_member_name(path, info.filename)
            if info.flag_bits & 0x1:
                raise SourceError(f"{path}: member {name!r} is encrypted; unpack the export with its password first")
            if not info.is_dir():
                members[name] = info
        _check_sizes(path, infos, limits)
        return members

    def names(self) -> list[str]:
        return list(self._members)

    def open(self, name: str) -> IO[bytes]:
        return self._zip.open(self._members[name])

    def read(self, name: str) -> bytes:
        with self.open(name) as handle:
            return handle.read()

    def close(self) -> None:
        self._zip.close()


class FolderTree:
    """An unpacked export; symbolic links are not followed so nothing outside it is read.

    A name that is not UTF-8 on disk reaches Python as lone surrogates (PEP 383), which no file can be written
    with: such a file is listed as not read, its name shown with U+FFFD, and is never given to a reader.
    """

    def __init__(self, root: Path) -> None:
        self.location = str(root)
        self.skipped: list[Ignored] = []
        self._root = root
        self._names = self._walk()

    def _walk(self) -> list[str]:
        """Every regular file, relative with `/`; os.scandir's entries already know their type, so
        the thousands of day files of a large export cost no stat call or Path object each."""
        names: list[str] = []
        pending = [""]
        while pending:
            prefix = pending.pop()
            with os.scandir(os.path.join(self._root, prefix)) as entries:
                for entry in entries:
                    rel = prefix + entry.name
                    if entry.is_symlink():
                        self.skipped.append(
                            Ignored(_shown(rel), "symbolic link, not followed (it could point outside the export)")
                        )
                    elif _shown(entry.name) != entry.name:  # listed once, a folder with nothing in it read
                        folder = entry.is_dir(follow_symlinks=False)
                        self.skipped.append(
                            Ignored(
                                _shown(rel) + ("/" if folder else ""),
                                _NOT_UTF8.format(what="folder" if folder else "file"),
                            )
                        )
                    elif entry.is_dir(follow_symlinks=False):
                        pending.append(rel + "/")
                    elif entry.is_file(follow_symlinks=False):
                        names.append(rel)
        return sorted(names)

    def names(self) -> list[str]:
        return self._names

    def open(self, name: str) -> IO[bytes]:
        return (self._root / name).open("rb")

    def read(self, name: str) -> bytes:
        """Every day file is read here: a plain path join, since building a Path costs more than the read."""
        with open(os.path.join(self._root, name), "rb", buffering=0) as handle:  # read whole: no buffer object needed
            return handle.read()

    def close(self) -> None:
        """Nothing to release: files are opened per read."""


def _shown(name: str) -> str:
    """A name from the file system as text any file can hold: bytes that are not UTF-8 on disk (lone surrogates
    in Python) as U+FFFD; the name itself when it is UTF-8, as nearly every name is."""
    return name if name.isascii() else os.fsencode(name).decode("utf-8", "replace")
