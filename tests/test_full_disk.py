"""A full disk, for real: the station's home on a small tmpfs that a filler file fills up.

Whichever write meets the full disk (the device's spool file, the page master, the catalog's WAL), the
clerk reads one plain message ("磁盘已满…释放空间后继续"), never a traceback or device advice; every page
received is kept; when space comes back the next scan (or recover) stores them first, in order.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from scanstation.cli.main import main
from scanstation.errors import ExitCode, StorageError
from scanstation.home import Home
from tests.conftest import PASSWORD
from tests.sane_fixture import sane_test_config  # noqa: F401  (fixture)
from tests.test_crash_seams import TEN, _session, check_home, in_capture_order, template  # noqa: F401  (fixture)

MB = 1 << 20


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _fill(mnt: Path, leave: int) -> Path:
    """Fill the file system but ``leave`` bytes."""
    st = os.statvfs(mnt)
    filler = mnt / "filler.bin"
    with open(filler, "wb") as fh:
        fh.truncate(0)
        remaining = max(0, st.f_bavail * st.f_frsize - leave)
        block = b"\0" * MB
        while remaining > 0:
            n = min(len(block), remaining)
            fh.write(block[:n])
            remaining -= n
    return filler


def _spooled(home_path: Path) -> int:
    spool = home_path / "spool"
    if not spool.exists():
        return 0
    return sum(1 for p in spool.rglob("*") if p.is_file() and not p.name.endswith((".json", ".part")))


def _active(home_path: Path) -> int:
    h = Home.open(home_path)
    try:
        return h.catalog.one(
            "SELECT count(*) n FROM pages p JOIN dossiers d ON d.id = p.dossier_id"
            " WHERE d.number = ? AND p.state = 'active'",
            (TEN,),
        )["n"]
    finally:
        h.close()


# free space left: none for the first device page; one spool page but not its master; one page stored;
# three spooled pages waiting for their masters
@pytest.mark.parametrize("leave_mb", [1, 10, 16, 30])
def test_full_disk_one_plain_message_every_page_kept_and_stored_when_space_returns(
    template, small_disk, monkeypatch, capsys, leave_mb
):  # noqa: F811
    home_path = small_disk / "home"
    shutil.copytree(template, home_path)
    monkeypatch.setenv("SCANSTATION_HOME", str(home_path))
    monkeypatch.setenv("SCANSTATION_PASSWORD", PASSWORD)
    filler = _fill(small_disk, leave_mb * MB)
    code = main(["--user", "clerk1", "scan", TEN, "--pages", "6", "--device", "demo", "--mode", "gray"])
    err = capsys.readouterr().err
    assert code == ExitCode.STORAGE, err
    assert "磁盘已满" in err and "释放空间后继续" in err
    assert "重新打开" not in err and "第 1-0 页" not in err and "Traceback" not in err
    assert err.count("磁盘已满") == 1
    stored, kept = _active(home_path), _spooled(home_path)
    filler.unlink()  # the clerk frees space
    assert main(["--user", "clerk1", "scan", TEN, "--pages", "1", "--device", "demo", "--mode", "gray"]) == 0
    rows = check_home(home_path)[TEN]
    assert len(rows) == stored + kept + 1, "a page received before the disk filled up was lost"
    assert in_capture_order(rows)


def test_catalog_full_is_the_same_plain_message_and_changes_nothing(template, small_disk):  # noqa: F811
    home_path = small_disk / "home"
    shutil.copytree(template, home_path)
    home = Home.open(home_path)
    try:
        clerk = _session(home, "clerk1")
        entries = home.catalog.one("SELECT count(*) n FROM audit_log")["n"]
        _fill(small_disk, 64 * 1024)
        with pytest.raises(StorageError) as err:
            clerk.log("test.big", "home", "X001", {"blob": "x" * (4 * MB)})
        assert "磁盘已满" in err.value.zh and "释放空间后继续" in err.value.zh
        (small_disk / "filler.bin").unlink()
        assert home.catalog.one("SELECT count(*) n FROM audit_log")["n"] == entries
        clerk.log("test.small", "home", "X001", {"ok": True})  # the catalog works again
    finally:
        home.close()


@pytest.mark.parametrize("leave_mb", [2, 6])
def test_full_disk_on_the_sane_path_is_no_device_fault(
    template, small_disk, monkeypatch, capsys, sane_test_config, leave_mb
):  # noqa: F811
    """The SANE worker's spool write meets the full disk: the plain message, no "关闭并重新打开扫描仪"."""
    home_path = small_disk / "home"
    shutil.copytree(template, home_path)
    monkeypatch.setenv("SCANSTATION_HOME", str(home_path))
    monkeypatch.setenv("SCANSTATION_PASSWORD", PASSWORD)
    filler = _fill(small_disk, leave_mb * MB)
    code = main(
        ["--user", "clerk1", "scan", TEN, "--pages", "4", "--device", "sane:test:0", "--mode", "gray", "--dpi", "200"]
    )
    err = capsys.readouterr().err
    assert code == ExitCode.STORAGE, err
    assert "磁盘已满" in err and "释放空间后继续" in err
    assert "重新打开" not in err and "第 1-0 页" not in err and "Traceback" not in err
    stored, kept = _active(home_path), _spooled(home_path)
    filler.unlink()
    assert main(["--user", "clerk1", "recover"]) == 0
    rows = check_home(home_path)[TEN]
    assert len(rows) == stored + kept and in_capture_order(rows)
