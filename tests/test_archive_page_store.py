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
