"""Walking a dataset folder: which entries are ignored, and why; links followed once.

Readers share these rules so that ``__MACOSX``, ``Thumbs.db`` and hidden files are
treated alike everywhere. Only regular files are read: a FIFO (which would block the
reader for ever), a socket or a device is skipped with a reason, and so is an entry
whose name is not valid UTF-8 (it could not be written to a manifest or report).
Every walk (scans, the tree fingerprint) goes through :class:`TreeWalk`, which enters
each folder at most once: a symbolic link to a folder is followed only when it leads
out of the dataset to a folder not read yet, so link loops (``s -> .``) and links into
the dataset are skipped with a reason instead of being read forever or twice. Nothing
here opens a file for writing.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISBLK, S_ISCHR, S_ISDIR, S_ISFIFO, S_ISREG, S_ISSOCK

from medaug.data.names import NOT_UTF8, is_utf8, printable
from medaug.errors import MedaugError

IGNORED_DIRS = frozenset({"__MACOSX", "@eaDir", "$RECYCLE.BIN", "System Volume Information"})
IGNORED_FILES = frozenset({"thumbs.db", "desktop.ini", ".ds_store", "ehthumbs.db"})
#: a file medaug puts in the non-class folders it writes (``report/``, ``checkpoints/``), so
#: that a balanced output folder reads back as a dataset with only its classes
NOT_A_CLASS_MARKER = ".medaug-not-a-class"


def ignore_reason(name: str, *, is_dir: bool = False, parent: Path | None = None) -> str | None:
    """Why a directory entry is ignored (hidden, OS metadata, a medaug report or checkpoint
    folder), or ``None`` to keep it. ``parent`` is the folder holding the entry."""
    if is_dir and name in IGNORED_DIRS:
        return f"{name} folder (OS metadata)"
    if is_dir and parent is not None and (parent / name / NOT_A_CLASS_MARKER).is_file():
        return "medaug output folder (report or checkpoints), not a class"
    if name.lower() in IGNORED_FILES:
        return "OS thumbnail/metadata file"
    if name.startswith("._"):
        return "macOS resource fork"
    if name.startswith("."):
        return "hidden folder" if is_dir else "hidden file"
    return None


def special_file_reason(mode: int) -> str | None:
    """Why an entry of ``mode`` (``st_mode``) is not read as a file, or ``None`` for a
    regular file or a folder: reading a FIFO blocks until a writer comes, a device or
    a socket is not an image."""
    if S_ISREG(mode) or S_ISDIR(mode):
        return None
    kinds = (
        (S_ISFIFO, "a named pipe (FIFO)"),
        (S_ISSOCK, "a socket"),
        (S_ISCHR, "a character device"),
        (S_ISBLK, "a block device"),
    )
    kind = next((name for test, name in kinds if test(mode)), "a special file")
    return f"not a regular file: {kind}"


def require_dir(root: Path | str) -> Path:
    """``root`` as an absolute :class:`Path`; a missing path, a file or a path that is
    not valid UTF-8 is an error."""
    path = Path(root).expanduser()
    if not is_utf8(path):
        raise MedaugError(f"dataset path '{printable(path)}': {NOT_UTF8}")
    if not path.exists():
        raise MedaugError(f"dataset path {str(path)!r} does not exist")
    if not path.is_dir():
        raise MedaugError(f"dataset path {str(path)!r} is not a folder")
    return path.resolve()


@dataclass(frozen=True)
class Entry:
    """One entry of a folder as a walk sees it."""

    path: Path
    #: a folder (or a link to one) to descend into; ``False`` for files and for folders
    #: that are not entered (``reason`` says why)
    is_dir: bool
    #: why the entry is not used, or ``None``
    reason: str | None
    #: ``os.stat`` of the entry (through a link), or of the link itself when it is skipped
    stat: os.stat_result | None


class TreeWalk:
    """One walk over the dataset at ``root``: each folder is entered at most once.

    A link to a folder is followed only when it leads outside ``root`` to a folder not
    entered yet. A link to the folder holding it or to one above is a loop; a link to
    a folder inside ``root`` is not followed (its files are read where they are, once);
    a second link to the same outside folder is not followed either. Share one walk
    between the class folders of one scan so that a folder is never read twice.
    """

    def __init__(self, root: Path, *, with_stat: bool = False) -> None:
        self.root = Path(os.path.realpath(root))
        #: fill :attr:`Entry.stat` for every entry (one more system call per file)
        self.with_stat = with_stat
        self._entered: set[tuple[int, int]] = set()

    def enter(self, folder: Path) -> str | None:
        """Record that ``folder`` is being read; the reason not to when it was entered
        already (a bind mount or a folder linked twice) or cannot be read."""
        try:
            st = os.stat(folder)
        except OSError as exc:
            return f"cannot read folder: {exc.strerror or exc}"
        key = (st.st_dev, st.st_ino)
        if key in self._entered:
            return "folder already read (the same folder is mounted or linked twice)"
        self._entered.add(key)
        return None

    def link_problem(self, link: Path, parent: Path) -> str | None:
        """Why the link to a folder ``link`` (an entry of ``parent``) is not followed,
        or ``None`` to follow it."""
        target = Path(os.path.realpath(link))
        here = Path(os.path.realpath(parent))
        if here.is_relative_to(target):
            return "symbolic link loop (points to the folder holding it or one above)"
        if target.is_relative_to(self.root):
            return "link to a folder inside the dataset (its files are read where they are)"
        try:
            st = os.stat(target)
        except OSError as exc:
            return f"cannot read linked folder: {exc.strerror or exc}"
        if (st.st_dev, st.st_ino) in self._entered:
            return "link to a folder already read through another link"
        return None

    def entries(self, folder: Path) -> list[Entry] | str:
        """The entries of ``folder`` sorted by name, each link checked; a string when
        ``folder`` cannot be listed. Ignore rules (hidden files...) are not applied."""
        try:
            with os.scandir(folder) as it:
                listing = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            return f"cannot list folder: {exc.strerror or exc}"
        return [self._entry(entry, folder) for entry in listing]

    def _entry(self, entry: os.DirEntry[str], folder: Path) -> Entry:
        path = Path(entry.path)
        try:
            is_link = entry.is_symlink()
        except OSError:
            is_link = False
        if not is_link:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                regular = is_dir or entry.is_file(follow_symlinks=False)
                st = entry.stat(follow_symlinks=False) if self.with_stat or not regular else None
            except OSError as exc:
                return Entry(path, False, f"cannot read: {exc.strerror or exc}", None)
            special = None if st is None else special_file_reason(st.st_mode)
            return Entry(path, is_dir, special, st)
        try:
            target = os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return Entry(
                    path, False, "symbolic link loop (the link leads back to itself)", None
                )
            return Entry(path, False, f"broken symbolic link ({exc.strerror or exc})", None)
        if not S_ISDIR(target.st_mode):
            return Entry(path, False, special_file_reason(target.st_mode), target)
        reason = self.link_problem(path, folder)
        if reason is None:
            return Entry(path, True, None, target)
        try:
            own: os.stat_result | None = os.lstat(path)
        except OSError:
            own = None
        return Entry(path, False, reason, own)

    def walk(self, top: Path) -> Iterator[Entry]:
        """Every entry under ``top`` (pre-order, sorted, ``top`` itself not included).

        A folder that is not entered (ignored, a link loop, already read, unreadable) is
        yielded once with its reason and not entered; entered folders are yielded with
        ``reason=None`` before their contents. :func:`ignore_reason` applies (hidden
        files, OS metadata...), and so does the rule on names that are not UTF-8."""
        problem = self.enter(top)
        if problem is not None:
            yield Entry(top, False, problem, None)
            return
        stack: list[Iterator[Entry]] = []
        listed = self.entries(top)
        if isinstance(listed, str):
            yield Entry(top, False, listed, None)
            return
        stack.append(iter(listed))
        while stack:
            entry = next(stack[-1], None)
            if entry is None:
                stack.pop()
                continue
            reason = entry.reason
            if reason is None:
                reason = ignore_reason(
                    entry.path.name, is_dir=entry.is_dir, parent=entry.path.parent
                )
            if reason is None and not is_utf8(entry.path.name):
                reason = NOT_UTF8
            if reason is not None or not entry.is_dir:
                yield Entry(entry.path, entry.is_dir and reason is None, reason, entry.stat)
                continue
            problem = self.enter(entry.path)
            if problem is not None:
                yield Entry(entry.path, False, problem, entry.stat)
                continue
            children = self.entries(entry.path)
            if isinstance(children, str):
                yield Entry(entry.path, False, children, entry.stat)
                continue
            yield entry
            stack.append(iter(children))


def walk_files(top: Path, *, walk: TreeWalk | None = None) -> Iterator[tuple[Path, str | None]]:
    """Every file under ``top`` (sorted, recursive) with the reason it is ignored or
    ``None``. Folders that are not entered (ignored, link loops, links into the dataset,
    unreadable) are reported once. ``walk`` shares one :class:`TreeWalk` between calls
    (default: a new one rooted at ``top``)."""
    walker = walk if walk is not None else TreeWalk(top)
    for entry in walker.walk(top):
        if entry.reason is not None or not entry.is_dir:
            yield entry.path, entry.reason


def tree_listing(top: Path) -> tuple[str, list[str]]:
    """A digest of ``(relative path, size, mtime_ns)`` of every entry under ``top``, walked
    as the readers walk it (links followed once, ignored folders not entered), and the
    relative paths of those entries in walk order. Any change to what a scan reads (a
    file added, removed, rewritten) changes the digest; while it is unchanged, an entry
    is named by its position in the listing (cached scans hold no file names)."""
    entries: list[str] = []
    listing: list[str] = []
    cut = len(str(top)) + 1
    for entry in TreeWalk(top, with_stat=True).walk(top):
        rel = str(entry.path)[cut:]
        listing.append(rel)
        st = entry.stat
        mtime = st.st_mtime_ns if st is not None else -1
        if entry.reason is not None:
            entries.append(f"{rel}\0skipped\0{entry.reason}\0{mtime}")
        elif entry.is_dir:
            entries.append(f"{rel}/\0{mtime}")
        else:
            entries.append(f"{rel}\0{st.st_size if st is not None else -1}\0{mtime}")
    entries.sort()
    digest = hashlib.blake2b(
        "\n".join(entries).encode("utf-8", "surrogateescape"), digest_size=16
    ).hexdigest()
    return digest, listing


def tree_fingerprint(top: Path) -> str:
    """The digest of :func:`tree_listing`: used to reuse cached scans and decoded images
    without looking at each file again."""
    return tree_listing(top)[0]
