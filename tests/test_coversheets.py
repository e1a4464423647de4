"""Cover sheets and split runs, end to end with real parts: sheets printed by the product (reportlab),
rasterised by pdftoppm, read by zxing-cpp; pages through the real pipeline into real SQLite and store."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from scanstation.capture import Capture, PagePipeline
from scanstation.cli.main import main
from scanstation.coversheet import detect, split
from scanstation.coversheet.hot_folder import SplitHotFolder
from scanstation.coversheet.sheet import (
    SheetData,
    check_value,
    code128_text,
    from_scanned,
    print_sheets,
    select_dossiers,
    write_sheets,
)
from scanstation.errors import ExitCode, Refused
from scanstation.home import now_iso
from scanstation.profiles import ScanProfile
from tests import coversheet_fixture as F
from tests.conftest import PASSWORD

GRAY = ScanProfile("测试灰度", mode="gray")


@pytest.fixture(scope="module")
def pipeline():
    p = PagePipeline(workers=2)
    yield p
    p.close()


@pytest.fixture(scope="module")
def stack50(tmp_path_factory):
    """50 dossiers (1-3 pages each): every sheet through a print/scan variant, in one stack."""
    from scanstation.home import Home

    tmp = tmp_path_factory.mktemp("stack50")
    scratch = Home.create(tmp / "scratch", "X001", "S01")
    try:
        dossiers = F.add_dossiers(scratch, 50)
    finally:
        scratch.close()
    return F.build_stack(tmp, dossiers), dossiers


def _capture(sessions, pipeline, user="clerk1"):
    return Capture(sessions[user], pipeline)


def _check_landed(home, stack: F.Stack, numbers):
    """Every page in the right dossier, in the right order; no cover sheet stored."""
    expected = stack.expected()
    for n in numbers:
        assert F.stored_positions(home, n) == expected[n], n
    sheet_positions = {i for i, t in enumerate(stack.truth) if t is None}
    stored = [
        int(r["source_ref"].rsplit(":", 1)[1])
        for r in home.catalog.query("SELECT source_ref FROM pages WHERE state = 'active'")
    ]
    assert not sheet_positions & set(stored)
    assert len(stored) == sum(1 for t in stack.truth if t is not None)


# -- the printed sheet ---------------------------------------------------------------------
def test_sheet_pdf_carries_utf8_qr_with_eci_and_ascii_code128_on_two_edges(home, sessions, tmp_path):
    F.add_dossiers(home, 3)
    out = tmp_path / "sheets.pdf"
    rows = select_dossiers(sessions["clerk1"], year=2024, status="not_scanned")
    print_sheets(sessions["clerk1"], rows, out)
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    font_rows = fonts.splitlines()[2:]
    assert font_rows and all(row.split()[-5] == "yes" for row in font_rows)  # every font embedded (CJK subset)
    subprocess.run(
        ["pdftoppm", "-r", "300", "-gray", "-f", "1", "-l", "1", "-singlefile", str(out), str(tmp_path / "p")],
        check=True,
    )
    image = np.asarray(Image.open(tmp_path / "p.pgm"))
    h = image.shape[0]
    for band in (image[: h // 4], image[3 * h // 4 :]):  # each edge alone carries both codes
        codes = zxingcpp.read_barcodes(band)
        qr = [c for c in codes if c.format == zxingcpp.BarcodeFormat.QRCode]
        c128 = [c for c in codes if c.format == zxingcpp.BarcodeFormat.Code128]
        assert qr and qr[0].text == F.number(0) and "·" in qr[0].text
        # ECI declared: the reader reports "]Q2" (ECI protocol) and designator 000026 (UTF-8) before the data
        raw = zxingcpp.read_barcodes(band, formats=zxingcpp.BarcodeFormat.QRCode, text_mode=zxingcpp.TextMode.HexECI)
        assert bytes.fromhex(raw[0].text).startswith(b"]Q2\\000026X001-ZY\xc2\xb7DJ")
        assert c128 and c128[0].text == "X001-ZY.DJ.2024.D100-0001-001" and c128[0].text.isascii()
        assert from_scanned(c128[0].text) == F.number(0)
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(out), "-"], capture_output=True, text=True).stdout
    assert check_value(F.number(0), 1) in text and "页数" in text and "参保登记表 第1号" in text
    assert (
        len([r for r in sessions["admin"].catalog.query("SELECT * FROM audit_log WHERE action = 'coversheet.print'")])
        == 1
    )


def test_check_value_changes_with_the_page_count_and_code128_refuses_non_ascii():
    assert check_value(F.number(0), 3) != check_value(F.number(0), 4)
    assert code128_text("X001-ZY·DJ·2024·D100-0001-001") == "X001-ZY.DJ.2024.D100-0001-001"
    from scanstation.errors import InvalidInput

    with pytest.raises(InvalidInput):
        code128_text("X001-社保·DJ·2024·D100-0001-001")


# -- one stack of 50 dossiers --------------------------------------------------------------
def test_stack_of_50_dossiers_imported_split_every_page_in_its_dossier(home, sessions, pipeline, stack50, tmp_path):
    stack, dossiers = stack50
    F.add_dossiers(home, 50)
    result = split.import_split(_capture(sessions, pipeline), stack.files, GRAY)
    assert result.ok, result.error
    assert result.sheets == 50 and len(result.parts) == 50 and not result.held
    _check_landed(home, stack, [d["number"] for d in dossiers])
    assert all(not p.mismatch for p in result.parts)
    counts = home.catalog.query("SELECT state, count(*) n FROM split_counts GROUP BY state")
    assert [(r["state"], r["n"]) for r in counts] == [("ok", 50)]
    assert all(Path(f).exists() for f in stack.files)  # imported originals stay where they are


def test_stack_of_50_dossiers_through_the_demo_scanner(home, sessions, pipeline, stack50):
    stack, dossiers = stack50
    F.add_dossiers(home, 50)
    run = split.SplitRun(
        _capture(sessions, pipeline), "demo", GRAY, scan_options={"demo_stack": tuple(str(f) for f in stack.files)}
    )
    events = []
    run.on_event = events.append
    result = run.run()
    assert result.ok, result.error
    _check_landed(home, stack, [d["number"] for d in dossiers])
    assert sum(1 for e in events if e["event"] == "sheet") == 50
    assert not any((home.path / "spool").rglob("*.pnm"))  # no sheet scan left behind
    assert max(result.decode_ms) < 200


def test_stack_through_the_hot_folder_one_file_per_page(home, sessions, pipeline, stack50, tmp_path):
    stack, dossiers = stack50
    F.add_dossiers(home, 50)
    drop = tmp_path / "drop"
    drop.mkdir()
    for f in stack.files[:40]:  # the scanner has written part of the stack
        shutil.copyfile(f, drop / f.name)
    watch = SplitHotFolder(sessions["clerk1"], drop, settle_s=0, report=lambda line: None)
    watch.capture = _capture(sessions, pipeline)
    watch.watcher.poll()  # first sight of the files
    assert watch.poll_once() == 40
    open_number = watch.open_number
    assert open_number
    for f in stack.files[40:]:  # ...and the rest later: the open dossier continues
        shutil.copyfile(f, drop / f.name)
    watch.watcher.poll()
    assert watch.poll_once() == len(stack.files) - 40
    watch.close_stack()
    numbers = sorted({t[0] for t in stack.truth if t})
    for n in numbers:
        assert len(F.stored_positions(home, n)) == len(stack.expected()[n]), n
    # order by file name inside each dossier: stack position = file order
    for n in numbers:
        refs = home.catalog.query(
            "SELECT p.source_ref FROM pages p JOIN dossiers d ON d.id = p.dossier_id"
            " WHERE d.number = ? AND p.state = 'active' ORDER BY p.seq",
            (n,),
        )
        assert len(refs) == len(stack.expected()[n])
    assert not home.catalog.query("SELECT * FROM split_counts WHERE state = 'mismatch'")
    assert sorted(p.name for p in (drop / "taken").iterdir()) == sorted(f.name for f in stack.files)


# -- failure cases -------------------------------------------------------------------------
def _small_stack(tmp_path, home, count=3, **kw):
    dossiers = F.add_dossiers(home, count)
    return F.build_stack(tmp_path, dossiers, **kw), dossiers


def test_pages_before_the_first_sheet_stop_the_run_and_are_held_then_assigned_in_one_action(
    home, sessions, pipeline, tmp_path
):
    stack, dossiers = _small_stack(tmp_path, home)
    files = [stack.files[3], stack.files[4]] + stack.files  # two pages of dossier 2 with no sheet in front
    result = split.import_split(_capture(sessions, pipeline), files, GRAY)
    assert result.stop_reason == split.BEFORE_FIRST_SHEET
    assert "第 1 页之前没有分隔页" in result.error.message
    assert result.stored_pages == 0
    assert len(result.held) == len(files)  # nothing lost: everything is held, in order
    assert [h["kind"] for h in result.held][:3] == ["page", "page", "sheet"]
    held = split.held_pages(sessions["clerk1"], result.run_id)
    assert all((home.path / h["file"]).is_file() for h in held)
    outcome = split.assign(_capture(sessions, pipeline), result.run_id, dossiers[1]["number"], GRAY)
    assert outcome.ok and len(outcome.pages) == 2  # up to the next held sheet
    # the rest of the stack runs through the splitter again
    again = split.resume(_capture(sessions, pipeline), result.run_id, GRAY)
    assert again.ok and again.sheets == 3
    n2 = dossiers[1]["number"]
    assert (
        home.catalog.one(
            "SELECT count(*) n FROM pages p JOIN dossiers d ON d.id = p.dossier_id WHERE d.number = ?"
            " AND p.state = 'active'",
            (n2,),
        )["n"]
        == 4
    )  # 2 assigned + 2 from the resumed stack
    assert home.catalog.query("SELECT * FROM split_counts WHERE state = 'mismatch'")  # 4 pages, 页数 2: flagged
    assert not split.held_pages(sessions["clerk1"])


def test_sheet_for_a_dossier_not_in_the_catalog_stops_there_and_resume_finishes_after_import(
    home, sessions, pipeline, tmp_path
):
    stack, dossiers = _small_stack(tmp_path, home)
    with home.catalog.write() as conn:  # the second dossier is not catalogued yet
        conn.execute("DELETE FROM dossiers WHERE number = ?", (dossiers[1]["number"],))
    result = split.import_split(_capture(sessions, pipeline), stack.files, GRAY)
    assert result.stop_reason == split.NOT_CAPTURABLE
    assert dossiers[1]["number"] in result.error.message and "目录中没有" in result.error.message
    assert F.stored_positions(home, dossiers[0]["number"]) == stack.expected()[dossiers[0]["number"]]
    held = result.held
    assert held[0]["kind"] == "sheet" and held[0]["number"] == dossiers[1]["number"]
    assert len(held) == len(stack.files) - 2  # from the failing sheet to the end
    F.add_dossiers(home, 1, start=1)  # the clerk imports the missing 目录 row
    again = split.resume(_capture(sessions, pipeline), result.run_id, GRAY)
    assert again.ok
    for d in dossiers[1:]:
        assert len(F.stored_positions(home, d["number"])) == d["declared_pages"]


def test_sheet_for_a_completed_dossier_is_refused(home, sessions, pipeline, tmp_path):
    stack, dossiers = _small_stack(tmp_path, home)
    with home.catalog.write() as conn:
        conn.execute("UPDATE dossiers SET status = 'completed' WHERE number = ?", (dossiers[2]["number"],))
    result = split.import_split(_capture(sessions, pipeline), stack.files, GRAY)
    assert result.stop_reason == split.NOT_CAPTURABLE and "已完成待质检" in result.error.message
    assert result.stored_pages == dossiers[0]["declared_pages"] + dossiers[1]["declared_pages"]
    assert result.held[0]["number"] == dossiers[2]["number"]


def test_sheet_for_a_dossier_being_scanned_elsewhere_is_refused(home, sessions, pipeline, tmp_path):
    stack, dossiers = _small_stack(tmp_path, home)
    with home.catalog.write() as conn:
        conn.execute(
            "INSERT INTO capture_sessions(dossier_id, operator, device, started_at) VALUES (?, 'clerk2', 'demo', ?)",
            (dossiers[0]["id"], now_iso()),
        )
    result = split.import_split(_capture(sessions, pipeline), stack.files, GRAY)
    assert result.stop_reason == split.NOT_CAPTURABLE and "正在别处扫描" in result.error.message
    assert "clerk2" in result.error.message and result.stored_pages == 0
    assert len(result.held) == len(stack.files)


def test_two_sheets_in_a_row_stop_at_the_second(home, sessions, pipeline, tmp_path):
    stack, dossiers = _small_stack(tmp_path, home, pages_of=lambda k: [1, 0, 2][k])
    result = split.import_split(_capture(sessions, pipeline), stack.files, GRAY)
    assert result.stop_reason == split.TWO_SHEETS
    assert dossiers[1]["number"] in result.error.message and dossiers[2]["number"] in result.error.message
    assert result.stored_pages == 1
    assert [h["kind"] for h in result.held] == ["sheet", "page", "page"]


def _spoil_qr_data(path: Path, out: Path) -> Path:
    """Blot the data area of both QR codes but leave their finder patterns: it still looks like a sheet."""
    image = Image.open(path).convert("L")
    arr = np.array(image)
    codes = zxingcpp.read_barcodes(arr, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(codes) == 2
    for c in codes:
        p = c.position
        xs = [p.top_left.x, p.top_right.x, p.bottom_left.x, p.bottom_right.x]
        ys = [p.top_left.y, p.top_right.y, p.bottom_left.y, p.bottom_right.y]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        w = x1 - x0
        # the centre cross of the symbol: outside the three finder patterns
        arr[y0 + w * 3 // 10 : y1 - w * 3 // 10, x0 + w // 8 : x1 - w // 8] = 0
        arr[y0 + w // 8 : y1 - w // 8, x0 + w * 3 // 10 : x1 - w * 3 // 10] = 255
    Image.fromarray(arr).save(out, dpi=(300, 300))
    # the Code 128 bands too: a torn sheet
    return out


def test_a_sheet_that_looks_like_one_but_cannot_be_read_stops_the_run(home, sessions, pipeline, tmp_path):
    stack, dossiers = _small_stack(tmp_path, home)
    sheet_at = stack.truth.index(None, 1)  # the second dossier's sheet
    raster = F.rasterise_sheet(
        write_sheets([SheetData(dossiers[1]["number"], "", 2)], tmp_path / "one.pdf"), tmp_path / "r", 1, 300, "gray"
    )
    spoiled = _spoil_qr_data(raster, tmp_path / "spoiled.tif")
    arr = np.array(Image.open(spoiled))  # tear off the Code 128 strips as well
    for c in zxingcpp.read_barcodes(arr, formats=zxingcpp.BarcodeFormat.Code128):
        ys = [c.position.top_left.y, c.position.bottom_left.y, c.position.top_right.y]
        arr[max(0, min(ys) - 60) : max(ys) + 60, :] = 255
    Image.fromarray(arr).save(spoiled, dpi=(300, 300))
    finding = detect.find_sheet(spoiled, 300, split._is_number_factory(home))
    assert finding.kind == detect.UNREADABLE
    files = list(stack.files)
    files[sheet_at] = spoiled
    result = split.import_split(_capture(sessions, pipeline), files, GRAY)
    assert result.stop_reason == split.UNREADABLE and "无法识别" in result.error.message
    assert result.held[0]["kind"] == "unreadable"
    assert result.stored_pages == dossiers[0]["declared_pages"]
    # the clerk knows which dossier it is: one action files the pages that followed
    outcome = split.assign(_capture(sessions, pipeline), result.run_id, dossiers[1]["number"], GRAY)
    assert outcome.ok and len(outcome.pages) == dossiers[1]["declared_pages"]


def test_r09_page_count_difference_is_flagged_and_the_run_goes_on(home, sessions, pipeline, tmp_path):
    stack, dossiers = _small_stack(tmp_path, home, pages_of=lambda k: [1, 1, 3][k])  # dossier 2 declares 2 pages
    result = split.import_split(_capture(sessions, pipeline), stack.files, GRAY)
    assert result.ok and result.sheets == 3
    flagged = [p for p in result.parts if p.mismatch]
    assert [(p.number, p.declared, p.counted) for p in flagged] == [(dossiers[1]["number"], 2, 1)]
    row = home.catalog.one("SELECT * FROM audit_log WHERE action = 'split.count_mismatch'")
    assert row["object_id"] == dossiers[1]["number"]
    from scanstation.pages import complete

    report = complete(sessions["clerk1"], dossiers[1]["number"], {})
    assert not report.completed  # R09 still blocks completion


def test_a_jam_in_a_split_run_keeps_the_pages_and_continues_with_into(home, sessions, pipeline, tmp_path):
    stack, dossiers = _small_stack(tmp_path, home)
    files = tuple(str(f) for f in stack.files)
    jam_at = stack.truth.index(None, 1) + 3  # 1-based: the second page after the second sheet
    run = split.SplitRun(
        _capture(sessions, pipeline),
        "demo",
        GRAY,
        scan_options={"demo_stack": files, "fault_at_page": (jam_at, "jammed")},
    )
    result = run.run()
    assert result.stop_reason == split.ERROR and "--into " + dossiers[1]["number"] in result.error.en
    assert result.stored_pages == dossiers[0]["declared_pages"] + 1
    rest = tuple(files[jam_at - 1 :])  # the clerk clears the jam and feeds the rest
    again = split.SplitRun(
        _capture(sessions, pipeline), "demo", GRAY, into=dossiers[1]["number"], scan_options={"demo_stack": rest}
    ).run()
    assert again.ok
    _check_landed_counts = {d["number"]: len(F.stored_positions(home, d["number"])) for d in dossiers}
    assert _check_landed_counts == {d["number"]: d["declared_pages"] for d in dossiers}


def test_labelled_first_page_opens_its_dossier_and_is_stored(home, sessions, pipeline, tmp_path):
    from reportlab.graphics.barcode.code128 import Code128
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    dossiers = F.add_dossiers(home, 1)
    pdf = tmp_path / "label.pdf"
    c = canvas.Canvas(str(pdf))
    Code128(code128_text(dossiers[0]["number"]), barWidth=0.33 * mm, barHeight=12 * mm).drawOn(c, 40 * mm, 250 * mm)
    c.drawString(40 * mm, 200 * mm, "Application form")
    c.save()
    subprocess.run(["pdftoppm", "-r", "300", "-gray", "-singlefile", str(pdf), str(tmp_path / "label")], check=True)
    page = tmp_path / "label.tif"
    Image.open(tmp_path / "label.pgm").save(page, dpi=(300, 300))
    assert detect.find_sheet(page, 300, split._is_number_factory(home)).kind == detect.PAGE  # option off
    assert detect.find_sheet(page, 300, split._is_number_factory(home), labels=True).kind == detect.LABEL
    result = split.import_split(_capture(sessions, pipeline), [page], GRAY, labels=True)
    assert result.ok and result.sheets == 0 and result.parts[0].opened_by == "label"
    assert len(F.stored_positions(home, dossiers[0]["number"])) == 1
    # our cover sheet in front of a labelled first page, and the label repeated on a later page: one dossier
    sheet = tmp_path / "sheet.tif"
    Image.open(
        F.rasterise_sheet(
            write_sheets([SheetData(dossiers[0]["number"], "", 1)], tmp_path / "s.pdf"), tmp_path / "r", 1, 300, "gray"
        )
    ).save(sheet, dpi=(300, 300))
    other = F.add_dossiers(home, 1, start=1)[0]
    other_page = tmp_path / "other.tif"
    F.document_page(1, 0, 300).save(other_page, dpi=(300, 300))
    again = split.import_split(_capture(sessions, pipeline), [sheet, page, other_page, page], GRAY, labels=True)
    assert again.ok and again.sheets == 1 and [p.number for p in again.parts] == [dossiers[0]["number"]] * 1
    assert len(again.parts[0].pages) == 3
    assert not F.stored_positions(home, other["number"])


def test_roles_are_checked_in_the_core(home, sessions, pipeline, tmp_path):
    stack, _ = _small_stack(tmp_path, home, count=1)
    with pytest.raises(Refused):
        split.import_split(_capture(sessions, pipeline, "qc1"), stack.files, GRAY)
    assert not home.catalog.query("SELECT * FROM split_runs")
    with pytest.raises(Refused):
        split.held_pages(sessions["auditor1"])


def test_a_run_cut_off_by_a_crash_leaves_its_pages_held(home, sessions, tmp_path):
    with home.catalog.write() as conn:
        conn.execute("INSERT INTO split_runs(operator, device, started_at) VALUES ('clerk1', 'demo', ?)", (now_iso(),))
    device = home.path / "spool" / "split-1" / "device" / "scan-x"
    device.mkdir(parents=True)
    Image.new("L", (100, 100), 255).save(device / "page-0001.pnm")
    (device / "page-0002.pnm.part").write_bytes(b"P5")  # half-written by the device: not a page
    assert split.recover_runs(sessions["clerk1"]) == 1
    held = split.held_pages(sessions["clerk1"], 1)
    assert len(held) == 1 and held[0]["reason"] == "interrupted" and (home.path / held[0]["file"]).is_file()
    assert home.catalog.one("SELECT state FROM split_runs WHERE id = 1")["state"] == "interrupted"


# -- the command line ----------------------------------------------------------------------
def test_cli_coversheet_import_split_and_held(cli_env, tmp_path, capsys):
    assert main(["init", "--fonds", "X001", "--station", "S01", "--admin", "admin"]) == 0
    assert main(["--user", "admin", "user", "add", "clerk1", "--role", "clerk"]) == 0
    from scanstation.home import Home

    home = Home.open(cli_env)
    try:
        dossiers = F.add_dossiers(home, 2)
    finally:
        home.close()
    capsys.readouterr()
    assert (
        main(
            [
                "--user",
                "clerk1",
                "coversheet",
                "--year",
                "2024",
                "--status",
                "not_scanned",
                "--out",
                str(tmp_path / "s.pdf"),
            ]
        )
        == 0
    )
    assert "2 张分隔页" in capsys.readouterr().out
    assert (
        main(["--user", "clerk1", "coversheet", "X001-ZY·DJ·2024·D100-0009-001", "--out", str(tmp_path / "x.pdf")])
        == ExitCode.NOT_FOUND
    )
    assert "目录中没有" in capsys.readouterr().err
    stack = F.build_stack(tmp_path / "b", dossiers)
    assert main(["--user", "clerk1", "--json", "import", "--split", str(tmp_path / "b" / "stack")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sheets"] == 2 and data["stored_pages"] == sum(1 for t in stack.truth if t)
    # a stack that starts without a sheet: refused in a plain message, pages held, one action files them
    assert main(["--user", "clerk1", "import", "--split", str(stack.files[1])]) == ExitCode.REFUSED
    err = capsys.readouterr().err
    assert "没有分隔页" in err and "split assign" in err
    assert main(["--user", "clerk1", "--json", "split", "held"]) == 0
    held = json.loads(capsys.readouterr().out)
    assert len(held) == 1
    assert main(["--user", "clerk1", "split", "assign", str(held[0]["run_id"]), dossiers[0]["number"]]) == 0
    capsys.readouterr()
    assert main(["--user", "clerk1", "--json", "split", "held"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["--user", "clerk1", "scan"]) == 2  # neither 档号 nor --split: a usage error


# -- SANE ----------------------------------------------------------------------------------
# The SANE test backend draws its own synthetic pictures; it cannot feed our cover sheets. What it
# does cover is the device path of a split run: the SANE worker process, its PNM spool files, the
# pre-check on each of them at scanner speed, the stop with everything held, and --into.
from tests.sane_fixture import sane_test_config  # noqa: E402,F401  (fixture)


def test_sane_split_run_holds_a_stack_without_sheets_and_files_it_with_into(home, sessions, pipeline, sane_test_config):
    dossiers = F.add_dossiers(home, 1, pages_of=lambda i: 10)
    profile = ScanProfile("sane-gray", device="sane:test:0", mode="gray", dpi=300)
    result = split.SplitRun(_capture(sessions, pipeline), "sane:test:0", profile).run()
    assert result.stop_reason == split.BEFORE_FIRST_SHEET
    assert result.stored_pages == 0 and 1 <= len(result.held) <= 10
    assert all(h["kind"] == "page" for h in result.held)
    assert all(ms < 50 for ms in result.decode_ms)
    outcome = split.assign(_capture(sessions, pipeline), result.run_id, dossiers[0]["number"], profile)
    assert outcome.ok and len(outcome.pages) == len(result.held)
    # the same feeder run, started with the dossier open: all ten pages go in, the count is reconciled
    with home.catalog.write() as conn:
        conn.execute("UPDATE dossiers SET declared_pages = ? WHERE id = ?", (len(result.held) + 10, dossiers[0]["id"]))
    again = split.SplitRun(_capture(sessions, pipeline), "sane:test:0", profile, into=dossiers[0]["number"]).run()
    assert again.ok and again.stored_pages == 10 and not again.parts[0].mismatch


def test_r13_a_handheld_gun_reading_the_code128_opens_the_dossier_as_if_typed(home, sessions):
    """The gun types "." for "·" (Code 128 has no "·"); the station reads it back as the 档号."""
    from scanstation.capture import find_dossier

    dossiers = F.add_dossiers(home, 1)
    assert find_dossier(sessions["clerk1"], code128_text(dossiers[0]["number"]))["id"] == dossiers[0]["id"]
    from scanstation.errors import InvalidInput

    with pytest.raises(InvalidInput):
        find_dossier(sessions["clerk1"], "X001-ZY.DJ.2024")  # still validated: an incomplete number


def test_hot_folder_split_with_a_sheet_for_an_unknown_dossier_holds_the_rest_and_reports(
    home, sessions, pipeline, tmp_path
):
    stack, dossiers = _small_stack(tmp_path, home)
    with home.catalog.write() as conn:
        conn.execute("DELETE FROM dossiers WHERE number = ?", (dossiers[2]["number"],))
    drop = tmp_path / "drop"
    drop.mkdir()
    for f in stack.files:
        shutil.copyfile(f, drop / f.name)
    lines = []
    watch = SplitHotFolder(sessions["clerk1"], drop, settle_s=0, report=lines.append)
    watch.capture = _capture(sessions, pipeline)
    watch.watcher.poll()
    watch.poll_once()
    watch.close_stack()
    assert any("目录中没有" in line for line in lines)
    assert watch.refused
    held = split.held_pages(sessions["clerk1"])
    assert held[0]["kind"] == "sheet" and held[0]["number"] == dossiers[2]["number"]
    assert len(held) == 1 + dossiers[2]["declared_pages"]
    for d in dossiers[:2]:
        assert F.stored_positions(home, d["number"]) == stack.expected()[d["number"]]
    assert len(list((drop / "taken").iterdir())) == len(stack.files)  # every page is stored or held


def test_cli_scan_split_with_the_demo_scanner_stops_without_a_sheet_and_into_files_the_pages(cli_env, capsys):
    assert main(["init", "--fonds", "X001", "--station", "S01", "--admin", "admin"]) == 0
    assert main(["--user", "admin", "user", "add", "clerk1", "--role", "clerk"]) == 0
    from scanstation.home import Home

    home = Home.open(cli_env)
    try:
        dossiers = F.add_dossiers(home, 1, pages_of=lambda i: 3)
    finally:
        home.close()
    capsys.readouterr()
    # the demo scanner feeds a dossier's pages with no cover sheet in front
    assert main(["--user", "clerk1", "scan", "--split", "--device", "demo", "--mode", "gray"]) == ExitCode.REFUSED
    err = capsys.readouterr().err
    assert "之前没有分隔页" in err and "进纸器" in err
    # --into (typed with "." as a handheld gun does): the demo feeder's ten pages go to the dossier; its 页数 is 3,
    # so the count is flagged and the run still ends well
    assert (
        main(
            [
                "--user",
                "clerk1",
                "--json",
                "scan",
                "--split",
                "--device",
                "demo",
                "--mode",
                "gray",
                "--into",
                code128_text(dossiers[0]["number"]),
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert data["dossiers"] == [
        {
            "number": dossiers[0]["number"],
            "pages": 10,
            "declared": 3,
            "counted": 10,
            "count_differs": True,
            "opened_by": "continued",
        }
    ]


def test_a_page_with_its_own_qr_code_is_an_ordinary_page_and_blank_or_dark_pages_are_quick(home, tmp_path):
    import segno

    is_number = split._is_number_factory(home)
    page = Image.new("L", (2480, 3508), 255)
    qr = segno.make_qr("https://si.example.gov.cn/form/123", error="m")
    qr.save(tmp_path / "qr.png", scale=12, border=4)
    page.paste(Image.open(tmp_path / "qr.png").convert("L"), (1800, 200))
    page.save(tmp_path / "form.pgm")
    assert detect.find_sheet(tmp_path / "form.pgm", 300, is_number).kind == detect.PAGE
    Image.new("L", (2480, 3508), 255).save(tmp_path / "blank.pgm")
    Image.new("L", (2480, 3508), 0).save(tmp_path / "dark.pgm")
    for name in ("blank.pgm", "dark.pgm"):
        finding = detect.find_sheet(tmp_path / name, 300, is_number)
        assert finding.kind == detect.PAGE and finding.cpu_ms < 50
    Image.new("1", (2480, 3508), 1).save(tmp_path / "bitonal.pbm")  # P4, as a lineart scan is spooled
    assert detect.find_sheet(tmp_path / "bitonal.pbm", 300, is_number).kind == detect.PAGE


# -- TWAIN (Windows): the real backend code against the fake pytwain module of the TWAIN tests --
def _twain_stack(monkeypatch, stack, no_dpi_at=None):
    import sys

    from tests.test_devices_twain import SOURCE, make_fake_twain

    tw = make_fake_twain()
    monkeypatch.setitem(sys.modules, "twain", tw)
    monkeypatch.setitem(sys.modules, "twain.exceptions", tw.exceptions)
    source_class = type(tw.SourceManager().open_source(SOURCE))

    def acquire_file(self, before, after=lambda more: None, show_ui=True, modal=False):
        """The feeder holds our stack: each sheet of paper is handed over as the driver's BMP file."""
        for n, f in enumerate(stack.files, 1):
            with Image.open(f) as im:
                dpi = round(im.info.get("dpi", (300, 300))[0])
                info = {
                    "XResolution": dpi,
                    "YResolution": dpi,
                    "ImageWidth": im.width,
                    "ImageLength": im.height,
                    "PixelType": 1,
                }
                path = before(info)
                if n == no_dpi_at:  # a driver that leaves the resolution out of the file header
                    im.convert("L").save(path, format="BMP")
                else:  # drivers write it in the header
                    im.convert("L").save(path, format="BMP", dpi=(dpi, dpi))
            try:
                after(len(stack.files) - n)
            except tw.exceptions.CancelAll:
                break

    monkeypatch.setattr(source_class, "acquire_file", acquire_file)
    return SOURCE


def test_twain_split_run_feeds_a_stack_of_cover_sheets_and_pages(home, sessions, pipeline, tmp_path, monkeypatch):
    stack, dossiers = _small_stack(tmp_path, home, count=4)
    SOURCE = _twain_stack(monkeypatch, stack)
    profile = ScanProfile("twain-gray", device=f"twain:{SOURCE}", mode="gray", dpi=300)
    result = split.SplitRun(_capture(sessions, pipeline), f"twain:{SOURCE}", profile).run()
    assert result.ok, result.error
    assert result.sheets == 4
    for d in dossiers:
        assert F.stored_positions(home, d["number"]) == stack.expected()[d["number"]]


def test_r02_a_page_that_cannot_be_stored_stops_the_split_run_and_nothing_is_lost(
    home, sessions, pipeline, tmp_path, monkeypatch
):
    stack, dossiers = _small_stack(tmp_path, home, count=3)
    bad = stack.expected()[dossiers[1]["number"]][1] + 1  # 1-based: the 2nd page of the 2nd dossier
    SOURCE = _twain_stack(monkeypatch, stack, no_dpi_at=bad)
    profile = ScanProfile("twain-gray", device=f"twain:{SOURCE}", mode="gray", dpi=300)
    result = split.SplitRun(_capture(sessions, pipeline), f"twain:{SOURCE}", profile).run()
    assert result.stop_reason == split.ERROR
    assert "200 dpi" in result.error.en and "--into " + dossiers[1]["number"] in result.error.en
    assert F.stored_positions(home, dossiers[0]["number"]) == stack.expected()[dossiers[0]["number"]]
    assert F.stored_positions(home, dossiers[1]["number"]) == stack.expected()[dossiers[1]["number"]][:1]
    kept = [p for p in (home.path / "spool").glob("session-*/page-*") if p.suffix != ".json"]
    assert len(kept) == 1  # the page that failed stays in its session spool
    # every page the scanner took in after it is held, in order, none lost
    positions = [h["position"] for h in result.held]
    assert positions == sorted(positions)
    assert len(kept) + len(result.held) + result.stored_pages + result.sheets <= len(stack.files)


def test_migrations_60_and_61_apply_to_an_existing_catalog_with_data(tmp_path, monkeypatch):
    import scanstation.coversheet as coversheet_module
    from scanstation.custody import paper as paper_module
    from scanstation.storage import catalog as catalog_module

    mine = {m[0] for m in coversheet_module.MIGRATIONS} | {paper_module.MIGRATION[0]}
    assert mine == {60, 61}
    real = catalog_module.all_migrations
    monkeypatch.setattr(catalog_module, "all_migrations", lambda: [m for m in real() if m[0] not in mine])
    cat = catalog_module.Catalog(tmp_path / "c.sqlite")
    cat.migrate()  # a catalog from before cover sheets and paper custody, with a dossier in it
    with cat.write() as conn:
        conn.execute("INSERT INTO fonds(code) VALUES ('X001')")
        conn.execute(
            "INSERT INTO dossiers(number, fonds_code, year, retention, title, created_at, updated_at) "
            "VALUES (?, 'X001', 2024, 'D100', '参保登记表', '', '')",
            (F.number(0),),
        )
    monkeypatch.setattr(catalog_module, "all_migrations", real)
    assert {60, 61} <= set(cat.migrate())
    with cat.write() as conn:  # the new tables work with the old rows
        dossier_id = conn.execute("SELECT id FROM dossiers").fetchone()[0]
        conn.execute("INSERT INTO paper_state(dossier_id, updated_at) VALUES (?, '')", (dossier_id,))
        conn.execute("INSERT INTO split_runs(operator, started_at) VALUES ('clerk1', '')")
    assert cat.one("SELECT location, binding FROM paper_state") == {"location": "store", "binding": "bound"}
    cat.close()


def test_cli_watch_split_once_files_a_dropped_stack(cli_env, tmp_path, capsys):
    assert main(["init", "--fonds", "X001", "--station", "S01", "--admin", "admin"]) == 0
    assert main(["--user", "admin", "user", "add", "clerk1", "--role", "clerk"]) == 0
    from scanstation.home import Home

    home = Home.open(cli_env)
    try:
        dossiers = F.add_dossiers(home, 2)
    finally:
        home.close()
    stack = F.build_stack(tmp_path / "b", dossiers)
    drop = tmp_path / "drop"
    drop.mkdir()
    for f in stack.files:
        shutil.copyfile(f, drop / f.name)
    capsys.readouterr()
    assert main(["--user", "clerk1", "--json", "watch", str(drop), "--split", "--once", "--settle", "0.2"]) == 0
    data = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert sum(r["stored_pages"] for r in data["runs"]) == sum(1 for t in stack.truth if t)
    assert not data["refused"] and len(list((drop / "taken").iterdir())) == len(stack.files)
