"""The content-addressed page store (SM3 names): POSIX folder and S3 (moto's standalone server)."""

from __future__ import annotations

import hashlib
import subprocess
import uuid

import pytest

from scanstation.errors import CheckFailed, InvalidInput, StorageError
from scanstation.storage.page_store import PosixPageStore, S3PageStore, open_store


def _file(tmp_path, data: bytes, name="page.jpg"):
    p = tmp_path / name
    p.write_bytes(data)
    return p, hashlib.sha256(data).hexdigest(), hashlib.new("sm3", data).hexdigest()


@pytest.fixture(params=["posix", "s3"])
def store(request, tmp_path):
    if request.param == "posix":
        s = PosixPageStore(tmp_path / "store")
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        s = S3PageStore(f"s3://archive-{uuid.uuid4().hex[:8]}/city/2026", endpoint)
    s.create()
    return s


def test_put_verifies_stores_once_and_reads_back(store, tmp_path):
    src, sha, sm3 = _file(tmp_path, b"\xff\xd8page one" * 1000)
    assert not store.has(sm3)
    assert store.put_file(src, sha, sm3) == src.stat().st_size
    assert store.has(sm3) and store.check(sm3, sha)
    assert store.read(sm3) == src.read_bytes()
    assert store.put_file(src, sha, sm3) == src.stat().st_size  # idempotent: a retry finds it
    assert store.put_bytes(b"bag-info") == (
        hashlib.sha256(b"bag-info").hexdigest(),
        hashlib.new("sm3", b"bag-info").hexdigest(),
    )


def test_a_file_changed_since_the_check_is_refused_and_nothing_stored(store, tmp_path):
    src, sha, sm3 = _file(tmp_path, b"original")
    src.write_bytes(b"tampered")
    with pytest.raises(CheckFailed):
        store.put_file(src, sha, sm3)
    assert not store.has(sm3)


def test_bad_names_are_refused(store):
    for name in ("../../etc/passwd", "ABC", "g" * 64):
        with pytest.raises(InvalidInput):
            store.has(name)


def test_fixity_finds_a_changed_object_and_a_retry_repairs_it(tmp_path):
    store = PosixPageStore(tmp_path / "store")
    store.create()
    src, sha, sm3 = _file(tmp_path, b"page bytes" * 100)
    store.put_file(src, sha, sm3)
    store.path(sm3).write_bytes(b"bit rot")
    assert not store.check(sm3, sha)
    store.put_file(src, sha, sm3)  # an intake retry replaces the damaged object with the good copy
    assert store.check(sm3, sha)
    assert not list((tmp_path / "store" / "tmp").iterdir())  # no temporary file left


def test_unmounted_store_is_a_plain_message(tmp_path):
    store = PosixPageStore(tmp_path / "nas")  # never created: the NAS is not mounted
    src, sha, sm3 = _file(tmp_path, b"x")
    with pytest.raises(StorageError) as exc:
        store.put_file(src, sha, sm3)
    assert "NAS" in str(exc.value)


def test_full_store_is_a_plain_message_and_keeps_nothing(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    if (
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True).returncode
        != 0
    ):
        pytest.skip("cannot mount a small tmpfs here")
    try:
        store = PosixPageStore(mnt)
        store.create()
        src, sha, sm3 = _file(tmp_path, bytes(range(256)) * 1024)  # 256 KiB into 64 KiB
        with pytest.raises(StorageError) as exc:
            store.put_file(src, sha, sm3)
        assert "full" in str(exc.value) or "满" in str(exc.value)
        assert not store.has(sm3)
        assert not list((mnt / "tmp").iterdir())
    finally:
        subprocess.run(["umount", str(mnt)])


def test_unreachable_s3_is_a_plain_message(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    store = S3PageStore("s3://nobucket/p", "http://127.0.0.1:9")
    src, sha, sm3 = _file(tmp_path, b"x")
    with pytest.raises(StorageError) as exc:
        store.put_file(src, sha, sm3)
    assert "not available" in str(exc.value) or "不可用" in str(exc.value)


def test_store_locations_are_checked():
    with pytest.raises(InvalidInput):
        open_store("relative/folder")
    with pytest.raises(InvalidInput):
        open_store("s3://")
    assert isinstance(open_store("/mnt/archive"), PosixPageStore)


# -- the stager: a desk stores a package's images in the same read as the check ------------------
def _stage(store, tmp_path, data: bytes, name="p.jpg"):
    from scanstation.transfer.bagit import hash_files

    src = tmp_path / name
    src.write_bytes(data)
    stager = store.stager(lambda p: p.suffix == ".jpg")
    hashed = hash_files([src], ["sha256", "sm3"], 1, tee=stager)
    return stager, src, hashed.digests[src]


def test_stager_stores_the_bytes_hashed_in_the_checks_read(tmp_path):
    store = PosixPageStore(tmp_path / "store")
    store.create()
    data = b"\xff\xd8scan" * 300_000  # several read chunks
    stager, src, d = _stage(store, tmp_path, data)
    assert d == {"sha256": hashlib.sha256(data).hexdigest(), "sm3": hashlib.new("sm3", data).hexdigest()}
    assert stager.adopt(src, d["sha256"], d["sm3"]) == len(data)
    assert store.read(d["sm3"]) == data and store.check(d["sm3"], d["sha256"])
    assert stager.adopt(src, d["sha256"], d["sm3"]) is None  # a copy is adopted once
    stager.close()
    assert not list((tmp_path / "store" / "tmp").iterdir())


def test_stager_keeps_nothing_it_was_not_asked_for_and_cleans_up(tmp_path):
    store = PosixPageStore(tmp_path / "store")
    store.create()
    stager, src, d = _stage(store, tmp_path, b"abc" * 1000)
    # digests other than those the check computed: no adoption, the copy is dropped
    assert stager.adopt(src, d["sha256"], "0" * 64) is None
    stager2, other, d2 = _stage(store, tmp_path, b"xyz", name="notes.xml")  # not wanted: never copied
    assert stager2.adopt(other, d2["sha256"], d2["sm3"]) is None
    stager3, src3, d3 = _stage(store, tmp_path, b"kept until close", name="q.jpg")
    assert len(list((tmp_path / "store" / "tmp").iterdir())) == 1
    for s in (stager, stager2, stager3):
        s.close()
    assert not list((tmp_path / "store" / "tmp").iterdir()) and not store.has(d3["sm3"])


def test_a_file_changed_after_its_copy_was_made_stops_the_desk(tmp_path):
    store = PosixPageStore(tmp_path / "store")
    store.create()
    stager, src, d = _stage(store, tmp_path, b"\xff\xd8checked" * 1000)
    src.write_bytes(b"\xff\xd8checked" * 1000)  # the same bytes written again: still a change to the file
    with pytest.raises(CheckFailed):
        stager.adopt(src, d["sha256"], d["sm3"])
    assert not store.has(d["sm3"]) and not list((tmp_path / "store" / "tmp").iterdir())


def test_a_copy_that_cannot_be_written_falls_back_and_leaves_nothing(tmp_path, monkeypatch):
    import errno

    store = PosixPageStore(tmp_path / "store")
    store.create()

    class Full:
        def __init__(self, real):
            self.real = real

        def write(self, chunk):
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self):
            self.real.close()

    stager = store.stager(lambda p: True)
    opened = stager.open
    monkeypatch.setattr(stager, "open", lambda path, st: Full(opened(path, st)))
    from scanstation.transfer.bagit import hash_files

    src = tmp_path / "p.jpg"
    src.write_bytes(b"page" * 1000)
    hashed = hash_files([src], ["sha256", "sm3"], 1, tee=stager)
    assert not hashed.errors  # the check itself goes on
    d = hashed.digests[src]
    assert stager.adopt(src, d["sha256"], d["sm3"]) is None  # the desk stores it the usual way
    assert not list((tmp_path / "store" / "tmp").iterdir())


def test_a_killed_desks_old_copies_are_swept_fresh_ones_kept(tmp_path):
    import os
    import time

    store = PosixPageStore(tmp_path / "store")
    store.create()
    old = tmp_path / "store" / "tmp" / "stage-123-old.part"
    fresh = tmp_path / "store" / "tmp" / "stage-456-fresh.part"  # another desk at work
    for f in (old, fresh):
        f.write_bytes(b"x")
    past = time.time() - 2 * 24 * 3600
    os.utime(old, (past, past))
    store.stager(lambda p: True).close()
    assert not old.exists() and fresh.exists()
