"""A content-addressed store of page files, keyed by their SM3 digest (the archive room at scale).

An object's name is its SM3 digest, so a file is stored once however many packages carry it, a
retried intake finds what an interrupted one already stored, and fixity is a re-hash against the
name. Two kinds, chosen by the archive home (``archive init --store``):

- ``PosixPageStore`` (the default; a local disk or a NAS mount): ``objects/ab/cd/<sm3>``. A file is
  written to ``tmp/`` while hashed, fsynced, renamed into place atomically, the folder fsynced, then
  read back and hashed again before ``put`` returns. A receiving desk instead stores a package's
  images in the same read as the four-property check (``stager``): each copy is written to ``tmp/``
  while the check hashes it, so its digests are those of the very bytes written; only after the check
  passed is it synced, its size confirmed and renamed into place (``put_staged``). This saves two of the
  three reads of every image; fixity checks re-read the objects later.
- ``S3PageStore`` (``s3://bucket/prefix``, boto3 with a configurable endpoint: Ceph RGW and the
  S3-compatible appliances of government data centres): one PUT, then the object is read back and
  hashed before ``put`` returns. Credentials come from boto3's usual sources (environment, the 0600
  file named by the archive home), never from the home itself.

``put`` checks the bytes against the digests the package declared: a file changed since it was
checked is refused and nothing is stored under its name. An object already present is re-hashed;
a damaged one is replaced by the good copy.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import threading
import time
from pathlib import Path

from scanstation.errors import CheckFailed, InvalidInput, StorageError
from scanstation.storage.files import DigestMismatch, copy_hashed, digests, fsync_dir

_SM3 = re.compile(r"[0-9a-f]{64}")


def _check_name(sm3: str) -> str:
    if not _SM3.fullmatch(sm3 or ""):
        raise InvalidInput(
            "'{d}' is not an SM3 digest (64 hex digits).", "“{d}”不是 SM3 摘要（64 位十六进制）。", d=sm3
        )
    return sm3


def _changed(name: str) -> CheckFailed:
    return CheckFailed(
        "{file} changed after it was checked; nothing was stored under its name. Check the package again.",
        "{file} 在检测后发生了变化；未以其名称存储任何内容。请重新检测移交包。",
        file=name,
    )


class PageStore:
    """What every store does; ``url`` names it in the archive home."""

    url = ""

    def put_file(self, src: Path, sha256: str, sm3: str) -> int:
        raise NotImplementedError

    def has(self, sm3: str) -> bool:
        raise NotImplementedError

    def open(self, sm3: str):
        """A binary file object of the stored object (caller closes)."""
        raise NotImplementedError

    def read(self, sm3: str) -> bytes:
        with self.open(sm3) as fh:
            return fh.read()

    def remove(self, sm3: str) -> None:
        """Remove an object (the destruction procedure); an object already gone is not an error."""
        raise NotImplementedError

    def objects(self):
        """Every stored object as (sm3, bytes, modified as a POSIX time), in no particular order."""
        raise NotImplementedError

    def sweep_tmp(self, older_than: float) -> int:
        """Remove unfinished writes a killed process left, last changed before ``older_than`` (a POSIX
        time); how many. Nothing to do where a write is one request."""
        return 0

    def hash(self, sm3: str) -> tuple[int, str, str]:
        """(bytes, sha256, sm3) of the stored object as it is now; FileNotFoundError when it is not there."""
        with self.open(sm3) as fh:
            return copy_hashed(fh)

    def check(self, sm3: str, sha256: str | None = None) -> bool:
        """Fixity: re-hash the stored object; True when it matches its name (and ``sha256``)."""
        try:
            fh = self.open(sm3)
        except (FileNotFoundError, StorageError):
            return False
        with fh:
            _, sha, sm = copy_hashed(fh, sha256=sha256 is not None)
        return sm == sm3 and (sha256 is None or sha == sha256)

    def put_bytes(self, data: bytes) -> tuple[str, str]:
        """Store bytes whose digests are computed here (the package's own record files)."""
        import tempfile

        sha256, sm3 = digests(data)
        if self.has(sm3) and self.check(sm3, sha256):
            return sha256, sm3
        with tempfile.NamedTemporaryFile(prefix="ss-store-") as tmp:
            tmp.write(data)
            tmp.flush()
            self.put_file(Path(tmp.name), sha256, sm3)
        return sha256, sm3


class PosixPageStore(PageStore):
    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.url = str(self.root)

    def create(self) -> None:
        try:
            (self.root / "objects").mkdir(parents=True, exist_ok=True)
            (self.root / "tmp").mkdir(exist_ok=True)
            probe = self.root / "tmp" / f".probe-{secrets.token_hex(4)}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise _os_error(self.root, exc) from exc

    def path(self, sm3: str) -> Path:
        _check_name(sm3)
        return self.root / "objects" / sm3[:2] / sm3[2:4] / sm3

    def has(self, sm3: str) -> bool:
        return self.path(sm3).is_file()

    def open(self, sm3: str):
        try:
            return open(self.path(sm3), "rb")
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise _os_error(self.path(sm3), exc) from exc

    def remove(self, sm3: str) -> None:
        target = self.path(sm3)
        try:
            target.unlink(missing_ok=True)
            fsync_dir(target.parent)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise _os_error(self.root, exc) from exc

    def objects(self):
        top = self.root / "objects"
        try:
            for first in os.scandir(top):
                if not first.is_dir(follow_symlinks=False):
                    continue
                for second in os.scandir(first.path):
                    if not second.is_dir(follow_symlinks=False):
                        continue
                    for entry in os.scandir(second.path):
                        if _SM3.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                            st = entry.stat(follow_symlinks=False)
                            yield entry.name, st.st_size, st.st_mtime
        except OSError as exc:
            raise _os_error(self.root, exc) from exc

    def sweep_tmp(self, older_than: float) -> int:
        removed = 0
        try:
            entries = list(os.scandir(self.root / "tmp"))
        except OSError as exc:
            raise _os_error(self.root, exc) from exc
        for entry in entries:
            with contextlib.suppress(OSError):  # a write that finished meanwhile is gone: fine
                if entry.name.endswith(".part") and entry.stat(follow_symlinks=False).st_mtime < older_than:
                    os.unlink(entry.path)
                    removed += 1
        return removed

    def put_file(self, src: Path, sha256: str, sm3: str) -> int:
        target = self.path(sm3)
        if target.is_file() and self.check(sm3, sha256):
            return target.stat().st_size
        tmp = self.root / "tmp" / f"{sm3}.{os.getpid()}.{secrets.token_hex(4)}.part"
        try:
            if not (self.root / "objects").is_dir():
                raise StorageError(
                    "The page store {path} is not there (is the NAS mounted?); nothing was stored.",
                    "页面存储 {path} 不存在（NAS 是否已挂载？）；未存储任何内容。",
                    path=str(self.root),
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                size, _, _ = copy_hashed(src, target, part=tmp, fsync=True, expected_sha256=sha256, expected_sm3=sm3)
            except DigestMismatch:
                raise _changed(Path(src).name) from None
            fsync_dir(target.parent)
        except OSError as exc:
            raise _os_error(self.root, exc) from exc
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        if not self.check(sm3, sha256):  # verify after write: what is on the store, not what we sent
            raise StorageError(
                "The page store {path} returned other bytes for {d} than were written; nothing was "
                "committed. Check the storage, then receive again.",
                "页面存储 {path} 读回的 {d} 与写入的内容不一致；未提交任何内容。请检查存储后重新接收。",
                path=str(self.root),
                d=sm3[:16],
            )
        return size

    def stager(self, wanted) -> Stager:
        """Copies made while a package is checked (see the module's text); ``wanted(path)`` says which."""
        return Stager(self, wanted)

    def put_staged(self, tmp: Path, size: int, sha256: str, sm3: str) -> int:
        """Move a stager's copy (``size`` bytes whose digests were computed as they were written) into
        place under ``sm3``: synced, its size confirmed, renamed atomically, the folder synced."""
        target = self.path(sm3)
        try:
            if target.is_file() and self.check(sm3, sha256):  # stored before (another package)
                return target.stat().st_size
            if not (self.root / "objects").is_dir():
                raise StorageError(
                    "The page store {path} is not there (is the NAS mounted?); nothing was stored.",
                    "页面存储 {path} 不存在（NAS 是否已挂载？）；未存储任何内容。",
                    path=str(self.root),
                )
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
                written = os.fstat(fd).st_size
            finally:
                os.close(fd)
            if written != size:
                raise StorageError(
                    "The page store {path} holds {w} of the {n} bytes written for {d}; nothing was committed. "
                    "Check the storage, then receive again.",
                    "页面存储 {path} 中 {d} 只有 {w}/{n} 字节；未提交任何内容。请检查存储后重新接收。",
                    path=str(self.root),
                    w=written,
                    n=size,
                    d=sm3[:16],
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
            fsync_dir(target.parent)
        except OSError as exc:
            raise _os_error(self.root, exc) from exc
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return size


STAGE_PREFIX = "stage-"
STAGE_SWEEP_AGE_S = 24 * 3600  # a killed desk's copies; a working desk's are minutes old


class Stager:
    """Copies of a package's files written to the store's ``tmp/`` in the same read as the check hashes
    them (``bagit.hash_files(tee=...)``). ``adopt`` moves one into the store once the check has passed;
    ``close`` removes every copy not adopted. A copy that cannot be written (a full store) is dropped
    and the desk stores that file the usual way, which then reports the problem."""

    def __init__(self, store: PosixPageStore, wanted):
        self.store, self.wanted = store, wanted
        self.tmp = store.root / "tmp"
        self.copies: dict[Path, tuple[Path, int, str, str, tuple]] = {}
        self.open_copies: dict[Path, tuple[Path, tuple]] = {}
        self.lock = threading.Lock()
        self._sweep()

    def _sweep(self) -> None:
        limit = time.time() - STAGE_SWEEP_AGE_S
        with contextlib.suppress(OSError):
            for item in self.tmp.iterdir():
                with contextlib.suppress(OSError):
                    if item.name.startswith(STAGE_PREFIX) and item.stat().st_mtime < limit:
                        item.unlink()

    def open(self, path, st: os.stat_result):
        if not self.wanted(Path(path)):
            return None
        tmp = self.tmp / f"{STAGE_PREFIX}{os.getpid()}-{secrets.token_hex(8)}.part"
        try:
            fh = open(tmp, "xb")
        except OSError:
            return None
        with self.lock:
            self.open_copies[Path(path)] = (tmp, _identity(st))
        return fh

    def write(self, path, fh, chunk):
        try:
            fh.write(chunk)
            return fh
        except OSError:
            self.abort(path, fh)
            return None

    def done(self, path, fh, size: int, digests: dict) -> None:
        try:
            fh.close()
        except OSError:
            self.abort(path, fh)
            return
        with self.lock:
            tmp, identity = self.open_copies.pop(Path(path))
            self.copies[Path(path)] = (tmp, size, digests.get("sha256", ""), digests.get("sm3", ""), identity)

    def abort(self, path, fh) -> None:
        with contextlib.suppress(OSError):
            fh.close()
        with self.lock:
            entry = self.open_copies.pop(Path(path), None)
        if entry is not None:
            with contextlib.suppress(OSError):
                entry[0].unlink()

    def adopt(self, path, sha256: str, sm3: str) -> int | None:
        """Store the copy of ``path`` under ``sm3`` when it is of exactly these digests; None when there is
        no such copy (then the caller stores the file itself). ``CheckFailed`` when ``path`` itself was
        changed since its copy was made (its size, times or inode differ): the package is no longer the
        one checked, so the desk stops as it would had it read the file again."""
        with self.lock:
            entry = self.copies.pop(Path(path), None)
        if entry is None:
            return None
        tmp, size, c_sha, c_sm3, identity = entry
        try:
            now = _identity(os.stat(path, follow_symlinks=False))
        except OSError:
            now = None
        if (c_sha, c_sm3) != (sha256, sm3) or now != identity:
            with contextlib.suppress(OSError):
                tmp.unlink()
            if now != identity:
                raise _changed(Path(path).name)
            return None
        return self.store.put_staged(tmp, size, sha256, sm3)

    def close(self) -> None:
        with self.lock:
            left = [entry[0] for entry in self.copies.values()] + [entry[0] for entry in self.open_copies.values()]
            self.copies.clear()
        for tmp in left:
            with contextlib.suppress(OSError):
                tmp.unlink()

    def __enter__(self) -> Stager:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _identity(st: os.stat_result) -> tuple:
    """What changes when a file is written, renamed over or replaced (ctime cannot be set back)."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _os_error(path: Path, exc: OSError) -> StorageError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageError(
            "The page store {path} is full. Free space or extend it, then receive again; nothing was "
            "committed and everything stored before is intact.",
            "页面存储 {path} 已满。请清理或扩容后重新接收；未提交任何内容，之前保存的内容完好无损。",
            path=str(path),
        )
    return StorageError(
        "The page store {path} cannot be used ({error}); nothing was committed. Check that it is mounted "
        "and writable, then receive again.",
        "页面存储 {path} 无法使用（{error}）；未提交任何内容。请检查其已挂载且可写后重新接收。",
        path=str(path),
        error=exc.strerror or str(exc),
    )


class S3PageStore(PageStore):
    def __init__(self, url: str, endpoint: str | None = None, region: str | None = None):
        m = re.fullmatch(r"s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(.*))?", url or "")
        if not m:
            raise InvalidInput(
                "'{url}' is not an S3 location: use s3://bucket/prefix.",
                "“{url}”不是 S3 地址：请使用 s3://存储桶/前缀。",
                url=url,
            )
        self.bucket, self.prefix = m.group(1), (m.group(2) or "").strip("/")
        self.url, self.endpoint = url.rstrip("/"), endpoint
        import boto3
        from botocore.config import Config

        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint or None,
            region_name=region or "us-east-1",
            config=Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30),
        )

    def key(self, sm3: str) -> str:
        _check_name(sm3)
        return "/".join(p for p in (self.prefix, "objects", sm3[:2], sm3[2:4], sm3) if p)

    def _error(self, exc) -> StorageError:
        return StorageError(
            "The page store {url} is not available ({error}); nothing was committed. When it is back, receive again.",
            "页面存储 {url} 不可用（{error}）；未提交任何内容。恢复后请重新接收。",
            url=self.url,
            error=type(exc).__name__,
        )

    def create(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            try:
                self.client.head_bucket(Bucket=self.bucket)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket"):
                    self.client.create_bucket(Bucket=self.bucket)
                else:
                    raise
        except (BotoCoreError, ClientError) as exc:
            raise self._error(exc) from exc

    def has(self, sm3: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(sm3))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise self._error(exc) from exc
        except BotoCoreError as exc:
            raise self._error(exc) from exc

    def open(self, sm3: str):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.key(sm3))["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                raise FileNotFoundError(self.key(sm3)) from exc
            raise self._error(exc) from exc
        except BotoCoreError as exc:
            raise self._error(exc) from exc

    def remove(self, sm3: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.key(sm3))  # idempotent in S3
        except (BotoCoreError, ClientError) as exc:
            raise self._error(exc) from exc

    def objects(self):
        from botocore.exceptions import BotoCoreError, ClientError

        prefix = "/".join(p for p in (self.prefix, "objects") if p) + "/"
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", ()):
                    name = item["Key"].rsplit("/", 1)[-1]
                    if _SM3.fullmatch(name) and item["Key"] == self.key(name):
                        yield name, int(item["Size"]), item["LastModified"].timestamp()
        except (BotoCoreError, ClientError) as exc:
            raise self._error(exc) from exc

    def put_file(self, src: Path, sha256: str, sm3: str) -> int:
        from botocore.exceptions import BotoCoreError, ClientError

        if self.has(sm3) and self.check(sm3, sha256):
            return self.client.head_object(Bucket=self.bucket, Key=self.key(sm3))["ContentLength"]
        try:
            size, _, _ = copy_hashed(src, expected_sha256=sha256, expected_sm3=sm3)
        except DigestMismatch:
            raise _changed(Path(src).name) from None
        try:
            with open(src, "rb") as fh:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=self.key(sm3),
                    Body=fh,
                    ContentLength=size,
                    Metadata={"sm3": sm3, "sha256": sha256},
                )
        except (BotoCoreError, ClientError) as exc:
            raise self._error(exc) from exc
        if not self.check(sm3, sha256):
            raise StorageError(
                "The page store {path} returned other bytes for {d} than were written; nothing was "
                "committed. Check the storage, then receive again.",
                "页面存储 {path} 读回的 {d} 与写入的内容不一致；未提交任何内容。请检查存储后重新接收。",
                path=self.url,
                d=sm3[:16],
            )
        return size


def open_store(url: str, endpoint: str | None = None) -> PageStore:
    """The store an archive home names: ``s3://bucket/prefix`` or an absolute folder."""
    if (url or "").startswith("s3://"):
        return S3PageStore(url, endpoint)
    if not url or not Path(url).is_absolute():
        raise InvalidInput(
            "The page store must be an absolute folder (a NAS mount) or s3://bucket/prefix: '{url}'.",
            "页面存储须为绝对路径（NAS 挂载点）或 s3://存储桶/前缀：“{url}”。",
            url=url or "",
        )
    return PosixPageStore(url)


__all__ = ["PageStore", "PosixPageStore", "S3PageStore", "Stager", "open_store"]
