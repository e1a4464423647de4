"""`scanstation watch`: network scanners drop files; complete files are filed under their 档号."""

from PIL import Image

from scanstation.catalog_import import import_catalog
from scanstation.devices.base import CancelToken
from scanstation.hot_folder import HotFolderWatch
from scanstation.resources import resource

THREE = "X001-ZY·DJ·2024·D100-0001-001"


def _page(path, dpi=300):
    Image.new("L", (2480, 3508), 245).save(path, dpi=(dpi, dpi))


def test_hot_folder_files_complete_files_and_leaves_the_rest(home, sessions, tmp_path):
    import_catalog(sessions["clerk1"], resource("sample-catalog.xlsx"))
    drop = tmp_path / "drop"
    (drop / THREE).mkdir(parents=True)
    _page(drop / THREE / "scan-0001.png")
    (drop / THREE / "scan-0002.png.part").write_bytes(b"still being written")  # not taken
    _page(drop / f"{THREE}_0002.png")  # 档号 in the name
    (drop / "X001-BAD").mkdir()
    _page(drop / "X001-BAD" / "x.png")  # not a 档号: stays
    lines = []
    watch = HotFolderWatch(sessions["clerk1"], drop, settle_s=0.3, report=lines.append)
    watch.run(CancelToken(), once=True, poll_s=0.1)
    assert watch.stored == 2
    assert (drop / THREE / "taken" / "scan-0001.png").exists()
    assert (drop / "taken" / f"{THREE}_0002.png").exists()
    assert (drop / THREE / "scan-0002.png.part").exists()
    assert (drop / "X001-BAD" / "x.png").exists()
    assert any("X001-BAD" in line or "x.png" in line for line in lines)
    rows = home.catalog.query("SELECT seq, file_name FROM pages WHERE state = 'active' ORDER BY seq")
    assert [r["file_name"] for r in rows] == [f"{THREE}-0001.jpg", f"{THREE}-0002.jpg"]


def test_r02_hot_folder_refuses_low_resolution(home, sessions, tmp_path):
    import_catalog(sessions["clerk1"], resource("sample-catalog.xlsx"))
    drop = tmp_path / "drop"
    (drop / THREE).mkdir(parents=True)
    _page(drop / THREE / "low.png", dpi=150)
    watch = HotFolderWatch(sessions["clerk1"], drop, settle_s=0.2, report=lambda line: None)
    watch.run(CancelToken(), once=True, poll_s=0.1)
    assert watch.stored == 0 and (drop / THREE / "low.png").exists()
    assert any("200" in why for why in watch.refused.values())
