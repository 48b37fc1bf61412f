"""Atomic file output: a file appears complete or not at all (temp file in the same folder, fsync, rename).

The target must be a regular file or a new name: a directory, a FIFO, a device node or a symlink is
refused (:class:`~docgen.errors.OutputError`), never replaced.  A temp file a killed process left behind
(``.NAME.XXXXXXXX.tmp``) is swept by the next write into that folder once it is older than any write.
:func:`user_cache_root` and :func:`user_config_root` are where docgen keeps its own files on this OS.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
import time
from pathlib import Path
from typing import Iterator

from .errors import OutputError

_TEMP = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")     # what mkstemp(prefix=".NAME.", suffix=".tmp") makes
STALE_SECONDS = 600                                  # a temp file this old belongs to no running write


def _app_dirs(platform: type | None):
    import platformdirs       # here: only what caches or reads a config file needs it

    return (platform or platformdirs.PlatformDirs)("docgen", appauthor=False, roaming=True)


def user_cache_root(platform: type | None = None) -> Path:
    """docgen's cache folder: ``$DOCGEN_CACHE_DIR``, else the OS's (platformdirs: ``$XDG_CACHE_HOME/docgen``
    or ``~/.cache/docgen`` on Linux, ``~/Library/Caches/docgen`` on macOS, ``%LOCALAPPDATA%\\docgen\\Cache``
    on Windows).  ``platform``: another OS's platformdirs class (tests)."""
    root = os.environ.get("DOCGEN_CACHE_DIR")
    if root:
        return Path(root).expanduser()
    return Path(_app_dirs(platform).user_cache_dir)


def user_config_root(platform: type | None = None) -> Path:
    """docgen's config folder (platformdirs: ``$XDG_CONFIG_HOME/docgen`` or ``~/.config/docgen`` on Linux,
    ``~/Library/Application Support/docgen`` on macOS, ``%APPDATA%\\docgen`` on Windows)."""
    return Path(_app_dirs(platform).user_config_dir)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def sweep_temp(folder: str | Path, min_age: float = STALE_SECONDS) -> int:
    """Remove atomic_write's temp files in ``folder`` older than ``min_age`` seconds; returns how many."""
    n, now = 0, time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for e in entries:
        if not _TEMP.match(e.name):
            continue
        try:
            st = e.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and now - st.st_mtime >= min_age:
                os.unlink(e.path)
                n += 1
        except OSError:
            pass
    return n


def check_target(path: str | Path) -> Path:
    """``path`` if a file may be written there: a regular file (replaced) or a new name; else OutputError."""
    path = Path(path)
    if "\0" in str(path):
        raise OutputError(f"{path!r}: an output path must not contain a NUL character")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return path
    except OSError as e:
        raise OutputError(f"{path}: cannot write here: {e.strerror}") from None
    if stat.S_ISREG(st.st_mode):
        return path
    what = ("a directory" if stat.S_ISDIR(st.st_mode) else "a symbolic link" if stat.S_ISLNK(st.st_mode)
            else "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode) or
            stat.S_ISBLK(st.st_mode) else "not a regular file")
    raise OutputError(f"{path}: is {what}; give the name of a file to write (docgen never replaces {what})")


def atomic_write(path: str | Path, data: bytes) -> Path:
    path = check_target(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"{path}: cannot create its folder: {e.strerror}") from None
    sweep_temp(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise OutputError(f"{path}: cannot write: {e.strerror}") from None
    try:
        os.fchmod(fd, 0o666 & ~_umask())     # mkstemp makes 0600; an output file gets the usual mode
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        check_target(path)                   # it may have become a folder or a FIFO while we wrote
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(e, OSError) and not isinstance(e, OutputError):
            raise OutputError(f"{path}: cannot write: {e.strerror}") from None
        raise
    return path


def write_sealed(path: str | Path, magic: bytes, body: bytes) -> bool:
    """Write a cache entry atomically: ``magic``, the sha256 of ``body``, ``body``.  A cache that cannot be
    written is not an error (False): the next process computes the entry again."""
    from .errors import DocgenError

    try:
        atomic_write(path, magic + hashlib.sha256(body).digest() + body)
    except (DocgenError, OSError):
        return False
    return True


def read_sealed(path: str | Path, magic: bytes, accept=None) -> memoryview | None:
    """The body of an entry :func:`write_sealed` wrote, or None: no entry, another format's magic, or
    bytes whose sha256 does not verify (damaged, truncated).  ``accept(stat)``: a test of the opened file's
    ``os.fstat`` (its owner, its mode) the entry must pass too."""
    try:
        with open(path, "rb") as f:
            if accept is not None and not accept(os.fstat(f.fileno())):
                return None
            raw = f.read()
    except OSError:
        return None
    head = len(magic) + 32
    if raw[: len(magic)] != magic or hashlib.sha256(memoryview(raw)[head:]).digest() != raw[len(magic) : head]:
        return None
    return memoryview(raw)[head:]


def file_lock(path: str | Path):
    """An exclusive lock across processes on ``path`` (filelock: ``flock`` on POSIX, ``msvcrt`` on
    Windows; released when its holder dies).  ``acquire(timeout=…)`` raises TimeoutError when busy."""
    import filelock
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:       # filelock ≥ 3.20: keep the lock file (unlinking it races a waiter) and never a soft lock
        return filelock.FileLock(str(path), thread_local=False, preserve_lock_file=True, fallback_to_soft=False)
    except TypeError:
        return filelock.FileLock(str(path), thread_local=False)


@contextlib.contextmanager
def locked(path: str | Path, timeout: float = -1) -> Iterator[None]:
    """Hold :func:`file_lock` on ``path`` (waiting at most ``timeout`` seconds; -1: as long as it takes)."""
    lock = file_lock(path)
    lock.acquire(timeout=timeout)
    try:
        yield
    finally:
        lock.release()
