"""Durable file writes and checksums.

A page is on disk for good before its catalog row commits: write a temporary file in the same
folder, fsync it, rename it over the final name, fsync the folder. A crash leaves either the old
state or the new one, plus at most a ``.part`` file that the reconcile step removes.
"""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

from scanstation.errors import StorageError

PART_SUFFIX = ".part"
CHUNK = 1 << 20


def fsync_dir(folder: Path) -> None:
    if os.name == "nt":  # directories cannot be opened for fsync on Windows
        return
    fd = os.open(str(folder), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def write_atomic(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write ``data`` to ``path`` so that a crash never leaves a partial file under that name.

    ``private``: the file is created readable by its owner only (0600) from its first byte (keys).
    """
    path = Path(path)
    if private and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.chmod(path.parent, PRIVATE_DIR_MODE)
        except OSError:
            pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + PART_SUFFIX)
    try:
        if private:
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), PRIVATE_FILE_MODE)
            if hasattr(os, "fchmod"):
                os.fchmod(fd, PRIVATE_FILE_MODE)  # whatever the umask
            opened = os.fdopen(fd, "wb")
        else:
            opened = open(tmp, "wb")
        with opened as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise storage_error(path, exc) from exc


def disk_full(path) -> StorageError:
    """The one message for a full disk, whichever write met it (page, spool, catalog)."""
    return StorageError(
        "The disk is full (writing {path}). Every page received so far is kept; free some space, then continue: "
        "the next scan of the dossier, or scanstation recover, stores the kept pages first.",
        "磁盘已满（写入 {path} 时）。已收到的页面全部保留；请释放空间后继续：再次扫描该案卷或运行 "
        "scanstation recover 时会先保存这些页面。",
        path=str(path),
    )


def storage_error(path: Path, exc: OSError) -> StorageError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return disk_full(path)
    return StorageError(
        "Cannot write {path}: {error}. Check the folder and its permissions; everything stored before is intact.",
        "无法写入 {path}：{error}。请检查该目录及其权限；之前保存的内容完好无损。",
        path=str(path),
        error=exc.strerror or str(exc),
    )


def digests(data: bytes) -> tuple[str, str]:
    """(sha256, sm3) hex digests of bytes (R22). SM3 through OpenSSL via hashlib."""
    return hashlib.sha256(data).hexdigest(), hashlib.new("sm3", data).hexdigest()


def file_digests(path: Path) -> tuple[int, str, str]:
    """(bytes, sha256, sm3) of a file, reading it once."""
    sha, sm3 = hashlib.sha256(), hashlib.new("sm3")
    size = 0
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            if not chunk:
                break
            size += len(chunk)
            sha.update(chunk)
            sm3.update(chunk)
    return size, sha.hexdigest(), sm3.hexdigest()


def sm3_hex(data: bytes) -> str:
    return hashlib.new("sm3", data).hexdigest()
