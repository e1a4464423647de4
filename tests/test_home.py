import json
import subprocess
import sys

import pytest

from scanstation.errors import HomeError
from scanstation.home import HOME_FORMAT, Home


def test_create_and_reopen(tmp_path):
    h = Home.create(tmp_path / "h", "X001", "S01")
    for sub in ("images", "outbox", "keys", "logs", "quarantine"):
        assert (tmp_path / "h" / sub).is_dir()
    h.close()
    h = Home.open(tmp_path / "h")
    assert h.fonds == "X001" and h.station == "S01"
    assert h.catalog.one("SELECT code FROM fonds")["code"] == "X001"
    assert h.catalog.one("PRAGMA journal_mode")["journal_mode"] == "wal"
    assert h.catalog.one("PRAGMA foreign_keys")["foreign_keys"] == 1
    h.close()


def test_missing_home_says_how_to_create(tmp_path):
    with pytest.raises(HomeError) as err:
        Home.open(tmp_path / "nothing")
    assert "scanstation init" in err.value.zh


def test_newer_home_refused_and_unchanged(tmp_path):
    Home.create(tmp_path / "h", "X001", "S01").close()
    station = tmp_path / "h" / "station.json"
    data = json.loads(station.read_text())
    data["format"] = HOME_FORMAT + 1
    station.write_text(json.dumps(data))
    before = (tmp_path / "h" / "catalog.sqlite").read_bytes()
    with pytest.raises(HomeError) as err:
        Home.open(tmp_path / "h")
    assert "新版本" in err.value.zh
    assert (tmp_path / "h" / "catalog.sqlite").read_bytes() == before


def test_newer_catalog_schema_refused(tmp_path):
    h = Home.create(tmp_path / "h", "X001", "S01")
    with h.catalog.write() as conn:
        conn.execute("INSERT INTO migrations VALUES (999, 'future', '')")
    h.close()
    with pytest.raises(HomeError) as err:
        Home.open(tmp_path / "h")
    assert "999" in err.value.en


def test_home_locked_by_another_running_station(tmp_path):
    Home.create(tmp_path / "h", "X001", "S01").close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time; import scanstation.bootstrap; from scanstation.home import Home; h=Home.open(sys.argv[1]);"
            " print('open', flush=True); time.sleep(30)",
            str(tmp_path / "h"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(HomeError) as err:
            Home.open(tmp_path / "h")
        assert "另一个运行中的扫描站" in err.value.zh
    finally:
        holder.kill()
        holder.wait()
    Home.open(tmp_path / "h").close()  # lock is released when the holder dies


def test_damaged_catalog_gives_clear_message(tmp_path):
    Home.create(tmp_path / "h", "X001", "S01").close()
    for leftover in ("catalog.sqlite-wal", "catalog.sqlite-shm"):
        (tmp_path / "h" / leftover).unlink(missing_ok=True)
    (tmp_path / "h" / "catalog.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(HomeError) as err:
        Home.open(tmp_path / "h")
    assert "备份" in err.value.zh


def test_damaged_station_file(tmp_path):
    Home.create(tmp_path / "h", "X001", "S01").close()
    (tmp_path / "h" / "station.json").write_text("{broken")
    with pytest.raises(HomeError):
        Home.open(tmp_path / "h")


def test_create_refuses_non_empty_folder(tmp_path):
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "something.txt").write_text("x")
    with pytest.raises(HomeError):
        Home.create(tmp_path / "h", "X001", "S01")
