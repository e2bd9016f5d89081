"""The one folder walker: which files below a folder are inputs (every surface lists folders here).

Policy (documented in ``docs/cli.md``):

* **Symbolic links are followed**, to files and to folders: a link is how a user puts a file
  into a corpus on their own machine.  A file reached through a link keeps the path it
  has *inside* the folder (``sym/notes.txt``), which names it in output and errors.
* **Loops are cut**: a folder link that leads back to a folder already on the way down
  (``a/b/up -> ../..``) is not entered again.
* **Nothing is dropped silently**: a broken link, a loop, or a folder or entry that cannot
  be read is returned in ``skipped`` with the reason, and callers warn about each one.
* Hidden entries (a name that starts with ``.``) are not inputs and are left out without a
  word, as is everything below a hidden folder (``.git``, ``.cache``).
* Files come sorted by their relative path (``/``-separated), so every run sees the same order.

Only the CLI, the library and batch walk folders; the service never does: it reads only the
temporary files it wrote for an upload, so no client can make it list a path of its choosing.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class SkippedEntry:
    """An entry below the folder that is not an input, and why (shown as a warning)."""

    relative: str
    reason: str

    def __str__(self) -> str:
        return f"{self.relative} ({self.reason})"


@dataclass
class FolderListing:
    files: list[Path] = field(default_factory=list)  # root / relative path, links not resolved
    skipped: list[SkippedEntry] = field(default_factory=list)


def list_files(root: str | Path) -> FolderListing:
    """Every visible regular file below ``root`` (links followed, loops cut), sorted by relative path."""
    root = Path(root)
    listing = FolderListing()
    try:
        top = root.stat()
    except OSError as exc:
        listing.skipped.append(SkippedEntry(".", f"cannot read the folder: {exc.strerror or exc}"))
        return listing
    _walk(root, root, ((top.st_dev, top.st_ino),), listing)
    listing.files.sort(key=lambda p: p.relative_to(root).as_posix())
    listing.skipped.sort(key=lambda s: s.relative)
    return listing


def _walk(root: Path, folder: Path, ancestors: tuple[tuple[int, int], ...], listing: FolderListing) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        rel = folder.relative_to(root).as_posix()
        listing.skipped.append(SkippedEntry(rel, f"cannot read the folder: {exc.strerror or exc}"))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        rel = path.relative_to(root).as_posix()
        try:
            info = os.stat(entry.path)  # follows links
        except FileNotFoundError:
            listing.skipped.append(SkippedEntry(rel, f"broken link to {_link_target(path)}"))
            continue
        except OSError as exc:  # a link loop (ELOOP), permission denied on the way, ...
            listing.skipped.append(SkippedEntry(rel, f"cannot read: {exc.strerror or exc}"))
            continue
        if stat.S_ISDIR(info.st_mode):
            identity = (info.st_dev, info.st_ino)
            if identity in ancestors:
                listing.skipped.append(SkippedEntry(rel, f"link loop: leads back to {_link_target(path)}"))
                continue
            _walk(root, path, (*ancestors, identity), listing)
        elif stat.S_ISREG(info.st_mode):
            listing.files.append(path)
        else:
            listing.skipped.append(SkippedEntry(rel, "not a regular file (device, pipe or socket)"))


def _link_target(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "a folder above it"


def describe_skipped(skipped: list[SkippedEntry], root: str | Path, limit: int = 5) -> str:
    """One warning line naming the skipped entries (the first ``limit``) and why."""
    shown = "; ".join(str(s) for s in skipped[:limit])
    more = f"; and {len(skipped) - limit} more" if len(skipped) > limit else ""
    return f"skipped {len(skipped)} entr{'y' if len(skipped) == 1 else 'ies'} in {root}: {shown}{more}"
