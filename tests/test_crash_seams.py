"""Crash seams, tried as an attacker would: kill -9 at each rename and commit of each command, then the
next step a clerk would take (scan, import, page operation, reconcile, recover, complete). After every
trial each page file is checked against its catalog row and against the SM3 the audit trail recorded,
and every page that existed before the crash must still exist (live, or kept as an original).

The crash is exact: ``SCANSTATION_CRASH_AT=point[@n]`` makes the command SIGKILL itself at the n-th
passage of a named point (scanstation.storage.faults). Trials start from a copy of one prepared home.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image

from scanstation import audit
from scanstation.capture import Capture, PagePipeline, page_file_name
from scanstation.catalog_import import import_catalog
from scanstation.cli.main import main
from scanstation.errors import ExitCode
from scanstation.home import Home
from scanstation.profiles import ScanProfile
from scanstation.resources import resource
from scanstation.service import Session
from scanstation.storage.files import file_digests
from scanstation.storage.image_store import ImageStore
from scanstation.users import row_to_user
from tests.conftest import PASSWORD, add_user
from tests.test_gui_fixtures import presenter_log  # noqa: F401  (fixture)

FIVE = "X001-ZY·DJ·2024·D100-0002-001"  # 5 declared pages, 4 scanned in the prepared home
THREE = "X001-ZY·DJ·2024·D100-0001-001"  # 3 declared, 2 scanned
TEN = "X001-ZY·DJ·2024·D100-0001-003"  # 10 declared, none scanned
GRAY = ScanProfile("测试灰度", mode="gray")
REPO = Path(__file__).resolve().parent.parent


# -- the prepared home ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "home"
    home = Home.create(path, "X001", "S01")
    try:
        for name, roles in [("admin", "admin"), ("clerk1", "clerk")]:
            add_user(home, name, roles)
        clerk = _session(home, "clerk1")
        import_catalog(clerk, resource("sample-catalog.xlsx"))
        capture = Capture(clerk, PagePipeline(workers=2))
        try:
            assert capture.start(FIVE, "demo", GRAY, pages=4).run().ok
            assert capture.start(THREE, "demo", GRAY, pages=2).run().ok
        finally:
            capture.close()
    finally:
        home.close()
    return path


@pytest.fixture
def station(template, tmp_path, monkeypatch):
    """A fresh copy of the prepared home; the CLI in this process acts on it as clerk1."""
    path = tmp_path / "home"
    shutil.copytree(template, path)
    monkeypatch.setenv("SCANSTATION_HOME", str(path))
    monkeypatch.setenv("SCANSTATION_PASSWORD", PASSWORD)
    monkeypatch.setenv("SCANSTATION_USER", "clerk1")
    return path


def _session(home, name):
    return Session(home, row_to_user(home.catalog.one("SELECT * FROM users WHERE name = ?", (name,))))


def _page_png(path: Path, shade: int = 200) -> Path:
    Image.new("L", (1700, 2200), shade).save(path, dpi=(300, 300))
    return path


def crash(home_path: Path, point: str, *args: str, user: str = "clerk1") -> subprocess.CompletedProcess:
    """Run a command in its own process and let it kill itself at ``point``; it must have got there."""
    env = dict(
        os.environ,
        SCANSTATION_HOME=str(home_path),
        SCANSTATION_PASSWORD=PASSWORD,
        SCANSTATION_USER=user,
        SCANSTATION_CRASH_AT=point,
        PYTHONPATH=str(REPO),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "scanstation.cli.main", *args], env=env, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == -signal.SIGKILL, f"{args} did not reach {point}: {proc.returncode} {proc.stderr}"
    return proc


def cli(*args: str, user: str = "clerk1") -> int:
    """A command in this process (a traceback fails the test)."""
    return main(["--user", user, *args])


# -- what must hold after every trial ---------------------------------------------------------
def snapshot(home_path: Path, number: str = "%") -> set[str]:
    """SM3 of every live page (of a dossier): none of them may be lost by a crash."""
    h = Home.open(home_path)
    try:
        return {
            r["sm3"]
            for r in h.catalog.query(
                "SELECT sm3 FROM pages p JOIN dossiers d ON d.id = p.dossier_id"
                " WHERE p.state = 'active' AND d.number LIKE ?",
                (number,),
            )
        }
    finally:
        h.close()


def check_home(home_path: Path, must_keep: set[str] = frozenset()) -> dict[str, list[dict]]:
    """Every page file matches its catalog row and the SM3 the audit trail recorded for it; numbering is
    contiguous; nothing is left half-done; no page of ``must_keep`` is lost (live or kept original)."""
    h = Home.open(home_path)
    try:
        assert h.catalog.one("SELECT count(*) n FROM pending_moves")["n"] == 0
        assert not h.catalog.query("SELECT id FROM capture_sessions WHERE state IN ('open', 'interrupted')")
        assert audit.verify(h.catalog.conn).ok
        recorded = set()
        for r in h.catalog.query("SELECT after FROM audit_log WHERE action IN ('page.capture', 'page.rotate')"):
            recorded.add(json.loads(r["after"])["sm3"])
        store = ImageStore(h.path)
        by_dossier = {}
        for d in h.catalog.query("SELECT id, number FROM dossiers ORDER BY number"):
            rows = h.catalog.query(
                "SELECT * FROM pages WHERE dossier_id = ? AND state = 'active' ORDER BY seq", (d["id"],)
            )
            assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1)), d["number"]
            for r in rows:
                assert r["file_name"] == page_file_name(d["number"], r["seq"], r["format"])
                assert file_digests(store.path(d["number"], r["file_name"])) == (r["bytes"], r["sha256"], r["sm3"])
                assert r["sm3"] in recorded, "a page whose SM3 the audit trail never recorded"
            folder = store.dossier_dir(d["number"])
            on_disk = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
            assert on_disk == sorted(r["file_name"] for r in rows), d["number"]
            by_dossier[d["number"]] = rows
        kept = set()
        for r in h.catalog.query("SELECT * FROM pages WHERE state IN ('deleted', 'replaced')"):
            assert file_digests(h.path / r["kept_path"]) == (r["bytes"], r["sha256"], r["sm3"])
            kept.add(r["sm3"])
        originals = h.path / "originals"  # a rotated page's earlier file is kept there too
        kept |= {file_digests(f)[2] for f in originals.rglob("*") if f.is_file()} if originals.exists() else set()
        live = {r["sm3"] for rows in by_dossier.values() for r in rows}
        assert must_keep <= live | kept, "a page was lost"
        refs = [r["source_ref"] for r in h.catalog.query("SELECT source_ref FROM pages WHERE source_ref != ''")]
        assert len(refs) == len(set(refs)), "a spooled page was stored twice"
        spool = h.path / "spool"
        assert not spool.exists() or not any(p.is_file() for p in spool.rglob("*")), "pages left in the spool"
        return by_dossier
    finally:
        h.close()


def in_capture_order(rows: list[dict]) -> bool:
    """Pages never moved by hand are numbered in the order they were captured (session, then index)."""
    keys = [(r["session_id"], int(r["source_ref"].rsplit(":", 1)[1])) for r in rows]
    return keys == sorted(keys)


# -- page operations: kill -9 after the commit, at each journalled rename ------------------------
PAGE_OPS = {
    "delete": ("page", "delete", FIVE, "2"),
    "move": ("page", "move", FIVE, "4", "1"),
    "rotate": ("page", "rotate", FIVE, "2", "90"),
    "replace": ("page", "replace", FIVE, "2", "--file", "{png}"),
}
NEXT_STEPS = ("scan", "import", "page", "reconcile", "recover", "complete")


def next_step(step: str, tmp_path: Path) -> int:
    if step == "scan":
        return cli("scan", FIVE, "--pages", "1", "--device", "demo", "--mode", "gray")
    if step == "import":
        return cli("import", FIVE, str(_page_png(tmp_path / "next.png", 120)))
    if step == "page":
        return cli("page", "move", FIVE, "1", "2")
    if step == "reconcile":
        return cli("reconcile", user="admin")
    if step == "recover":
        return cli("recover")
    if step == "complete":
        return cli("dossier", "complete", FIVE, "--explain", "extra=rescanned", "--explain", "missing=torn")
    raise AssertionError(step)


# every operation at every crash point, followed by a next step (the steps rotate over the cases)
PAGE_CASES = [
    (op, point, NEXT_STEPS[i % len(NEXT_STEPS)])
    for i, (op, point) in enumerate(
        (op, point)
        for op in PAGE_OPS  # rotate makes two moves
        for point in ("moves.planned", "moves.renamed@1", "moves.renamed@2" if op == "rotate" else "moves.renamed@3")
    )
]
# and the case of the issue (a page lost for good) followed by every next step
PAGE_CASES += [("delete", "moves.planned", step) for step in NEXT_STEPS if step != "scan"]
PAGE_CASES = list(dict.fromkeys(PAGE_CASES))


@pytest.mark.parametrize("op,point,step", PAGE_CASES)
def test_page_operation_killed_at_each_rename_then_next_step(station, tmp_path, op, point, step):
    before = snapshot(station)
    args = [a.format(png=_page_png(tmp_path / "rescan.png", 90)) for a in PAGE_OPS[op]]
    crash(station, point, *args)
    code = next_step(step, tmp_path)
    assert code in (0, 1)
    assert cli("recover") == 0
    rows = check_home(station, before)[FIVE]
    if step in ("scan", "import"):  # the new page is filed after the others, over no one's file
        assert len(rows) == (3 if op == "delete" else 4) + 1


def crash_core(home_path: Path, point: str, call: str) -> None:
    """Kill -9 inside a core page operation that has no command of its own (the window's undo)."""
    code = (
        "import scanstation.bootstrap; from scanstation import pages; from scanstation.home import Home;"
        "from scanstation.service import Session;"
        "from scanstation.users import row_to_user; h = Home.open(); "
        "s = Session(h, row_to_user(h.catalog.one(\"SELECT * FROM users WHERE name = 'clerk1'\"))); " + call
    )
    env = dict(os.environ, SCANSTATION_HOME=str(home_path), SCANSTATION_CRASH_AT=point, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr


@pytest.mark.parametrize(
    "op,point",
    [
        ("insert", "moves.planned"),
        ("insert", "moves.renamed@2"),
        ("restore", "moves.planned"),
        ("restore", "moves.renamed@2"),
        ("undo_replace", "moves.planned"),
        ("undo_replace", "moves.renamed@3"),
    ],
)
def test_insert_and_undo_operations_killed_then_scan(station, tmp_path, op, point):
    """The rest of the family: scan --insert-after, and the window's undo of a delete or a replacement."""
    if op == "restore":
        assert cli("page", "delete", FIVE, "2") == 0
    elif op == "undo_replace":
        assert cli("page", "replace", FIVE, "2", "--file", str(_page_png(tmp_path / "r.png", 70))) == 0
    before = snapshot(station)
    if op == "insert":
        crash(station, point, "scan", FIVE, "--pages", "1", "--device", "demo", "--mode", "gray", "--insert-after", "1")
    else:
        crash_core(
            station,
            point,
            {
                "restore": f"pages.restore_deleted(s, {FIVE!r}, 2)",
                "undo_replace": f"pages.undo_replace(s, {FIVE!r}, 2)",
            }[op],
        )
    assert cli("scan", FIVE, "--pages", "1", "--device", "demo", "--mode", "gray") in (0, 3)
    assert cli("recover") == 0
    check_home(station, before)


def test_issue_case_delete_killed_before_its_moves_then_scan_keeps_the_last_page(station):
    """The seam of the issue: `page delete N 2` killed after its commit, then `scan N --pages 1`."""
    before = snapshot(station, FIVE)
    crash(station, "moves.planned", "page", "delete", FIVE, "2")
    assert cli("scan", FIVE, "--pages", "1", "--device", "demo", "--mode", "gray") == 0
    rows = check_home(station, before)[FIVE]
    assert len(rows) == 4  # 3 left after the delete + the new one
    h = Home.open(station)
    try:
        deleted = h.catalog.one("SELECT sm3 FROM pages WHERE state = 'deleted'")["sm3"]
    finally:
        h.close()
    assert {r["sm3"] for r in rows[:3]} | {deleted} == before  # the original last page is page 3, intact


def test_reconcile_before_recover_leaves_no_row_without_file_and_completion_checks_files(station):
    crash(station, "moves.renamed@3", "page", "move", FIVE, "4", "1")
    assert cli("reconcile", user="admin") == 0  # replays the journal first: nothing in flight is quarantined
    h = Home.open(station)
    try:
        assert not list((h.path / "quarantine").glob("reconcile-*/*/.renumber-*"))
        # a row whose file is gone for real (deleted by hand): completion refuses, saying which page
        rows = h.catalog.query(
            "SELECT p.file_name FROM pages p JOIN dossiers d ON d.id = p.dossier_id"
            " WHERE d.number = ? AND p.state = 'active' ORDER BY seq",
            (FIVE,),
        )
        (h.path / "images" / FIVE / rows[2]["file_name"]).unlink()
        from scanstation import pages
        from scanstation.errors import Refused

        with pytest.raises(Refused) as err:
            pages.complete(_session(h, "clerk1"), FIVE)
        assert "第 3 页的图像文件缺失" in err.value.zh and "recover" in err.value.zh
        status = h.catalog.one("SELECT status FROM dossiers WHERE number = ?", (FIVE,))["status"]
        assert status == "scanning"
    finally:
        h.close()


def test_moves_of_files_an_old_reconcile_quarantined_are_finished_from_quarantine(station):
    """A home damaged by the old order (reconcile, then recover): the in-flight files come back."""
    before = snapshot(station)
    crash(station, "moves.renamed@3", "page", "move", FIVE, "4", "1")
    h = Home.open(station)
    try:
        folder = h.path / "images" / FIVE
        aside = h.path / "quarantine" / "reconcile-20260101-000000" / FIVE
        aside.mkdir(parents=True)
        for f in folder.glob(".renumber-*"):
            shutil.move(str(f), str(aside / f.name))
    finally:
        h.close()
    assert cli("recover") == 0
    check_home(station, before)


def test_missing_source_of_a_pending_move_is_said_plainly_and_not_counted_done(station, capsys):
    crash(station, "moves.renamed@3", "page", "move", FIVE, "4", "1")
    h = Home.open(station)
    try:
        leftover = sorted((h.path / "images" / FIVE).glob(".renumber-*"))[0]
        leftover.unlink()
        rel = f"images/{FIVE}/{leftover.name}"
    finally:
        h.close()
    assert cli("recover") == ExitCode.STORAGE
    assert "无法完成" in capsys.readouterr().err
    h = Home.open(station)
    try:
        # the move of the missing file is not counted as done: it stays in the journal
        assert h.catalog.one("SELECT count(*) n FROM pending_moves WHERE src = ?", (rel,))["n"] == 1
    finally:
        h.close()


# -- capture: kill -9 at each step of a page's way from the device to the catalog -----------------
SCAN_POINTS = ("capture.arrived@2", "capture.spooled@2", "capture.page_written@2", "capture.committed@2")
# every point and every next step at least once; a new capture after each point
SCAN_CASES = [
    ("capture.arrived@2", "scan"),
    ("capture.spooled@2", "scan"),
    ("capture.page_written@2", "import"),
    ("capture.committed@2", "scan"),
    ("capture.spooled@2", "recover"),
    ("capture.page_written@2", "page"),
    ("capture.committed@2", "complete"),
    ("capture.arrived@2", "reconcile"),
    ("capture.committed@2", "import"),
]


@pytest.mark.parametrize("point,step", SCAN_CASES)
def test_scan_killed_at_each_step_then_next_step(station, tmp_path, point, step, capsys):
    before = snapshot(station)
    crash(station, point, "scan", TEN, "--pages", "4", "--device", "demo", "--mode", "gray")
    if step == "scan":
        assert cli("scan", TEN, "--pages", "1", "--device", "demo", "--mode", "gray") == 0
    elif step == "import":
        assert cli("import", TEN, str(_page_png(tmp_path / "new.png", 50))) == 0
    elif step == "page":  # refused in plain words until the interrupted scan is recovered
        assert cli("page", "move", TEN, "1", "1") == ExitCode.REFUSED
        assert "recover" in capsys.readouterr().err
    elif step == "complete":
        assert cli("dossier", "complete", TEN) == ExitCode.REFUSED
        assert "recover" in capsys.readouterr().err
    elif step == "reconcile":
        assert cli("reconcile", user="admin") in (0, 1)
    assert cli("recover") == 0
    rows = check_home(station, before)[TEN]
    assert in_capture_order(rows), "a page of the crashed run was filed after a newer one"
    if step in ("scan", "import"):
        assert rows[-1]["session_id"] == max(r["session_id"] for r in rows)  # the new page comes last
        assert len(rows) >= 2


def test_complete_device_pages_left_in_the_device_folder_are_recovered(station):
    """kill -9 while a page is complete in spool/session-N/device/ but not handed over."""
    crash(station, "capture.arrived@3", "scan", TEN, "--pages", "4", "--device", "demo", "--mode", "gray")
    h = Home.open(station)
    try:
        waiting = [p for p in (h.path / "spool").rglob("device/*/page-*.pnm")]
        assert waiting, "the crash left a complete device page"
    finally:
        h.close()
    assert cli("recover") == 0
    rows = check_home(station)[TEN]
    assert len(rows) >= 3 and in_capture_order(rows)


# -- import and hot folder ---------------------------------------------------------------------
def _tiff(path: Path, frames: int) -> Path:
    images = [Image.new("L", (1700, 2200), 60 + 40 * i) for i in range(frames)]
    images[0].save(path, save_all=True, append_images=images[1:], dpi=(300, 300), compression="tiff_lzw")
    return path


def test_crashed_import_session_does_not_block_recover(station, tmp_path):
    """An import session stores its profile with mode null; recover used to stop on it."""
    files = [_page_png(tmp_path / f"p{i}.png", 100 + i * 30) for i in range(3)]
    crash(station, "capture.committed@2", "import", TEN, *map(str, files))
    crash(station, "capture.committed@1", "scan", THREE, "--pages", "1", "--device", "demo", "--mode", "gray")
    assert cli("recover") == 0
    rows = check_home(station)
    assert len(rows[TEN]) == 3 and len(rows[THREE]) == 3


@pytest.mark.parametrize("point", ["watch.filed", "capture.committed@2", "capture.spooled@1"])
def test_hot_folder_intake_killed_then_watch_again_files_each_page_once(station, tmp_path, point):
    hot = tmp_path / "hot"
    (hot / TEN).mkdir(parents=True)
    _tiff(hot / TEN / "bundle.tif", 3)
    crash(station, point, "watch", str(hot), "--once", "--settle", "0.2")
    assert cli("watch", str(hot), "--once", "--settle", "0.2") == 0
    rows = check_home(station)[TEN]
    assert len(rows) == 3, "a page of the file was filed twice (or lost)"
    assert len({r["source_file"] for r in rows}) == 3
    assert not (hot / TEN / "bundle.tif").exists() and (hot / TEN / "taken" / "bundle.tif").exists()


def test_replace_from_file_killed_in_its_import_then_recover(station, tmp_path):
    before = snapshot(station)
    crash(station, "capture.committed@1", "page", "replace", FIVE, "2", "--file", str(_page_png(tmp_path / "r.png")))
    assert cli("recover") == 0
    check_home(station, before)


# -- refused input changes nothing -------------------------------------------------------------
def _state(home_path: Path) -> tuple:
    h = Home.open(home_path)
    try:
        counts = tuple(
            h.catalog.one(f"SELECT count(*) n FROM {t}")["n"]
            for t in ("capture_sessions", "audit_log", "pages", "pending_moves")
        )
    finally:
        h.close()
    spool = home_path / "spool"
    return counts + (sorted(str(p) for p in spool.rglob("*")) if spool.exists() else [],)


def _bomb_png(path: Path) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 40000, 40000, 8, 0, 0, 0, 0))
        + chunk(b"pHYs", struct.pack(">IIB", 11811, 11811, 1))
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )
    return path


def _bomb_tiff(path: Path) -> Path:
    entries = [
        (256, 4, 1, 40000),
        (257, 4, 1, 40000),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (262, 3, 1, 1),
        (273, 4, 1, 8),
        (277, 3, 1, 1),
        (278, 4, 1, 40000),
        (279, 4, 1, 16),
    ]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + b"\0\0\0\0"
    path.write_bytes(b"II*\0" + struct.pack("<I", 24) + b"\0" * 16 + ifd)
    return path


@pytest.mark.parametrize(
    "case",
    ["device", "missing", "pdf", "low_dpi", "not_image", "bomb_png", "bomb_tiff", "long_name", "empty_dir", "mixed"],
)
def test_refused_input_writes_nothing(station, tmp_path, case, capsys):
    before = _state(station)
    if case == "device":
        code = cli("scan", TEN, "--device", "nosuch")
    else:
        target = {
            "missing": lambda: tmp_path / "nothing.png",
            "pdf": lambda: (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4\n") and tmp_path / "a.pdf",
            "low_dpi": lambda: (
                Image.new("L", (800, 1100), 255).save(tmp_path / "l.png", dpi=(100, 100)) or tmp_path / "l.png"
            ),
            "not_image": lambda: (tmp_path / "x.txt").write_text("hello") and tmp_path / "x.txt",
            "bomb_png": lambda: _bomb_png(tmp_path / "bomb.png"),
            "bomb_tiff": lambda: _bomb_tiff(tmp_path / "bomb.tif"),
            "long_name": lambda: tmp_path / ("页" * 120 + ".png"),
            "empty_dir": lambda: (tmp_path / "empty").mkdir() or tmp_path / "empty",
            "mixed": lambda: _bomb_png(tmp_path / "z-bomb.png"),
        }[case]()
        good = [str(_page_png(tmp_path / "a-good.png"))] if case == "mixed" else []  # checked before the first page
        code = cli("import", TEN, *good, str(target))
    err = capsys.readouterr().err
    expected = ExitCode.NOT_FOUND if case in ("device", "missing") else ExitCode.INVALID_INPUT
    assert code == expected and err.strip() and "Traceback" not in err
    assert _state(station) == before, "a refused command changed the station"
    if case.startswith("bomb") or case == "mixed":
        assert "像素过多" in err


# -- kill -9 of the main process: its workers go with it --------------------------------------
def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_pool_workers_and_resource_tracker_die_with_the_killed_station(station):
    env = dict(
        os.environ,
        SCANSTATION_HOME=str(station),
        SCANSTATION_PASSWORD=PASSWORD,
        SCANSTATION_USER="clerk1",
        PYTHONPATH=str(REPO),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "scanstation.cli.main", "scan", TEN, "--device", "demo", "--mode", "gray"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        proc.stdout.readline()  # the first page is stored: the pools are running
        children = _children(proc.pid)
        assert len(children) >= 3, children  # page workers, demo renderer, resource tracker
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in children):
        time.sleep(0.2)
    assert not [p for p in children if _alive(p)], "processes outlived the killed station"


# -- power loss: a commit is on disk before its spool file goes ---------------------------------
def test_catalog_commits_are_durable_before_the_spool_file_is_removed(station):
    h = Home.open(station)
    try:
        assert h.catalog.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert h.catalog.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        h.close()


# -- the window's start-up runs the same recovery --------------------------------------------------
def test_window_start_up_replays_moves_and_recovers_interrupted_scans(station, qtbot, presenter_log):
    from tests.test_gui_fixtures import close_window, make_window, wait_tasks

    before = snapshot(station)
    crash(station, "moves.planned", "page", "delete", FIVE, "2")
    crash(station, "capture.committed@2", "scan", TEN, "--pages", "4", "--device", "demo", "--mode", "gray")
    home = Home.open(station)
    try:
        window = make_window(qtbot, home, "clerk1")
        wait_tasks(qtbot, timeout=60000)
        close_window(qtbot, window)
        assert any("interrupted scan" in text or "中断" in text for _, text in presenter_log), presenter_log
        recorded = home.catalog.one("SELECT count(*) n FROM audit_log WHERE action = 'station.recover'")["n"]
        assert recorded == 1  # audited, like `scanstation recover`
    finally:
        home.close()
    rows = check_home(station, before)
    assert len(rows[FIVE]) == 3 and len(rows[TEN]) >= 2 and in_capture_order(rows[TEN])


def test_one_unrecoverable_session_does_not_block_the_others(station, capsys):
    """A session whose stored settings cannot be used is reported; the other crashed scans are stored."""
    crash(station, "capture.committed@1", "scan", TEN, "--pages", "3", "--device", "demo", "--mode", "gray")
    crash(station, "capture.committed@1", "scan", THREE, "--pages", "1", "--device", "demo", "--mode", "gray")
    h = Home.open(station)
    try:
        first = h.catalog.one(
            "SELECT s.id FROM capture_sessions s JOIN dossiers d ON d.id = s.dossier_id"
            " WHERE d.number = ? AND s.state = 'open'",
            (TEN,),
        )["id"]
        with h.catalog.write() as conn:  # settings no version of the station would accept
            conn.execute(
                "UPDATE capture_sessions SET settings = ? WHERE id = ?",
                (json.dumps({"profile": {"name": "x", "dpi": 100}}), first),
            )
    finally:
        h.close()
    assert cli("recover") == 1
    err_out = capsys.readouterr()
    assert "R02" in err_out.out and TEN in err_out.out
    h = Home.open(station)
    try:
        states = {
            r["number"]: r["state"]
            for r in h.catalog.query(
                "SELECT d.number, s.state FROM capture_sessions s JOIN dossiers d ON d.id = s.dossier_id"
                " WHERE s.id >= ?",
                (first,),
            )
        }
        assert states == {TEN: "open", THREE: "closed"}
        assert h.catalog.one("SELECT count(*) n FROM audit_log WHERE action = 'station.recover'")["n"] == 1
    finally:
        h.close()
    assert cli("page", "move", TEN, "1", "1") == ExitCode.REFUSED  # that dossier waits; its spooled pages are kept
    assert "recover" in capsys.readouterr().err
