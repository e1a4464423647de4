"""Durable file writes and checksums.

A page is on disk for good before its catalog row commits: write a temporary file in the same
folder, fsync it, rename it over the final name, fsync the folder. A crash leaves either the old
state or the new one, plus at most a ``.part`` file that the reconcile step removes.
"""

from __future__ import annotations

import contextlib
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


class DigestMismatch(Exception):
    """The bytes read are not the ones expected (the source changed after it was checked)."""


def copy_hashed(
    src,
    dst: Path | None = None,
    *,
    part: Path | None = None,
    fsync: bool = False,
    sha256: bool = True,
    expected_sha256: str | None = None,
    expected_sm3: str | None = None,
    chunk: int = CHUNK,
) -> tuple[int, str, str]:
    """The station's one copy-while-hashing loop (R22): read ``src`` once -- a path or an open binary
    file -- computing SM3 and SHA-256 (``sha256=False``: SM3 only, "" in its place), and write the bytes
    to ``dst`` when given. Returns (bytes, sha256, sm3).

    ``part``: write there first and rename to ``dst`` only when the digests are ``expected_*``; else the
    part is removed, ``dst`` is untouched and DigestMismatch is raised (also without ``dst``: a check).
    ``fsync``: the copy is on disk before the rename. Both digests come from OpenSSL through hashlib
    (SM3 about 370 MB/s); one reused buffer and ``readinto`` keep the loop free of allocations.
    """
    sha = hashlib.sha256() if sha256 else None
    sm = hashlib.new("sm3")
    buf = bytearray(chunk)
    view = memoryview(buf)
    size = 0
    target = part if part is not None else dst
    try:
        with contextlib.ExitStack() as stack:
            fin = src if hasattr(src, "read") else stack.enter_context(open(src, "rb", buffering=0))
            out = stack.enter_context(open(target, "wb")) if target is not None else None
            readinto = getattr(fin, "readinto", None)
            while True:
                data: bytes | memoryview
                if readinto is not None:
                    n = readinto(buf)
                    data = view[:n]
                else:  # a file object without readinto (e.g. a decrypting reader)
                    data = fin.read(chunk)
                    n = len(data)
                if not n:
                    break
                if sha is not None:
                    sha.update(data)
                sm.update(data)
                if out is not None:
                    out.write(data)
                size += n
            if out is not None and fsync:
                out.flush()
                os.fsync(out.fileno())
        sha_hex, sm_hex = sha.hexdigest() if sha is not None else "", sm.hexdigest()
        if (expected_sha256 is not None and sha_hex != expected_sha256) or (
            expected_sm3 is not None and sm_hex != expected_sm3
        ):
            raise DigestMismatch(str(getattr(src, "name", src)))
    except BaseException:
        if part is not None:
            with contextlib.suppress(OSError):
                os.unlink(part)
        raise
    if part is not None and dst is not None:
        os.replace(part, dst)
    return size, sha_hex, sm_hex


def file_digests(path: Path) -> tuple[int, str, str]:
    """(bytes, sha256, sm3) of a file, reading it once."""
    return copy_hashed(path)


def sm3_hex(data: bytes) -> str:
    return hashlib.new("sm3", data).hexdigest()
