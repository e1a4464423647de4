"""R40: nothing readable outlives its use. Temporary files live under the home, are removed on every
path, and what a killed process (kill -9) left is swept when the home is next opened."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image

from scanstation.errors import CheckFailed
from scanstation.home import Home
from scanstation.imaging import orientation
from scanstation.storage import temp_files

ROOT = Path(__file__).resolve().parent.parent


def _child(script: str, env_home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    env.pop(temp_files.ENV, None)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=str(ROOT),
    )


def test_r40_orientation_png_is_under_the_home_and_removed_on_success_and_failure(home, monkeypatch):
    seen = []

    def fake(args, timeout=0):
        seen.append(Path(args[0]))
        assert seen[-1].exists()
        raise CheckFailed("tesseract failed", "tesseract 失败")

    monkeypatch.setattr(orientation, "run_tesseract", fake)
    page = Image.new("L", (600, 800), 255)
    with pytest.raises(CheckFailed):
        orientation.detect_orientation(page, 300)
    assert seen[0].parent == home.path / "tmp" and not seen[0].exists()
    monkeypatch.undo()
    orientation.detect_orientation(page, 300)  # real tesseract: "too few characters" -> upright
    assert list((home.path / "tmp").iterdir()) == []
    assert (home.path / "tmp").stat().st_mode & 0o077 == 0


def test_r40_orientation_png_left_by_kill_9_is_swept_when_the_home_is_opened(tmp_path):
    home = Home.create(tmp_path / "home", "X001", "S01")
    home.close()
    result = _child(
        f"""
        import os, signal
        from PIL import Image
        import scanstation.bootstrap
        from scanstation.home import Home
        from scanstation.imaging import orientation
        Home.open({str(tmp_path / "home")!r})
        def killed(args, timeout=0):
            os.kill(os.getpid(), signal.SIGKILL)      # the station dies while tesseract reads the page
        orientation.run_tesseract = killed
        orientation.detect_orientation(Image.new("L", (600, 800), 255), 300)
        """,
        tmp_path / "home",
    )
    assert result.returncode == -9, result.stderr
    left = list((tmp_path / "home" / "tmp").glob("osd-*.png"))
    assert len(left) == 1  # under the home, not in the system temp folder
    with Home.open(tmp_path / "home"):
        assert list((tmp_path / "home" / "tmp").iterdir()) == []


def test_r40_killed_batch_seal_leaves_sealing_folder_that_is_swept(tmp_path):
    from tests.test_transfer_fixtures import make_station, station_key

    station = make_station(tmp_path / "station")
    station_key(station, tmp_path)
    station.close()
    result = _child(
        f"""
        import os, signal
        import scanstation.bootstrap
        from scanstation.home import Home
        from scanstation.service import Session
        from scanstation.users import row_to_user
        from scanstation.transfer import bagit, batches, seal
        from tests.test_transfer_fixtures import PASSPHRASE
        home = Home.open({str(tmp_path / "station")!r})
        clerk = Session(home, row_to_user(home.catalog.one("SELECT * FROM users WHERE name = 'clerk1'")))
        batch = batches.create(clerk, 2024)
        def killed(*a, **k):
            os.kill(os.getpid(), signal.SIGKILL)      # kill -9 in the middle of sealing
        bagit.write_bagit_txt = killed
        seal.seal(clerk, batch["batch_id"], "station", PASSPHRASE)
        """,
        tmp_path / "station",
    )
    assert result.returncode == -9, result.stderr
    outbox = tmp_path / "station" / "outbox"
    left = list(outbox.glob(".sealing-*"))
    assert len(left) == 1 and any(p.suffix == ".jpg" for p in left[0].rglob("*"))  # a plain copy of pages
    with Home.open(tmp_path / "station") as home:
        assert list(outbox.glob(".sealing-*")) == []
        assert home.catalog.one("SELECT state FROM batches")["state"] == "draft"


def test_r40_raw_pages_of_dead_processes_are_swept_and_live_ones_kept(tmp_path):
    ram = tmp_path / "shm"
    ram.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = ram / f"{temp_files.RAW_PAGE_PREFIX}{dead.pid}-abc.raw"
    mine = ram / f"{temp_files.RAW_PAGE_PREFIX}{os.getpid()}-abc.raw"
    other = ram / "someone-else.raw"
    for p in (stale, mine, other):
        p.write_bytes(b"pixels")
    (tmp_path / "home").mkdir()
    removed = temp_files.sweep(tmp_path / "home", ram_dir=str(ram))
    assert removed == [str(stale)] and mine.exists() and other.exists()


def test_r39_backups_leave_temporary_files_out(home, sessions, tmp_path):
    from scanstation.custody import backup

    (home.path / "tmp" / "osd-x.png").write_bytes(b"page")
    backup.create(sessions["admin"], tmp_path / "backup")
    assert not list((tmp_path / "backup").rglob("osd-x.png"))
