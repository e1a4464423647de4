"""OCR engines behind one interface (tesseract via pytesseract, PP-OCR via rapidocr-onnxruntime), run for
real on small generated forms: text and layout, the queue storing engine/confidence/layout together,
re-reading with another engine, `ocr text`, search that forgives OCR, the QC low-confidence filter."""

from __future__ import annotations

import json
import socket

import pytest

from scanstation import qc, search
from scanstation.devices.ocr_forms import FormSpec, render_form
from scanstation.errors import ExitCode, NotFound, Refused
from scanstation.home import now_iso
from scanstation.ocr import actions, engines
from scanstation.ocr.layout import load_layout
from scanstation.ocr.queue import OcrRunner, enqueue, page_image_path, store_page_text
from scanstation.ocr.tesseract import OcrError

NUMBER = "X001-ZY·DJ·2024·D100-0001-001"
HAN = "\u4e00-\u9fff"


def form(tmp_path, name="f.jpg", **kw):
    spec = FormSpec(
        seed=kw.pop("seed", 11),
        dpi=kw.pop("dpi", 200),
        style=kw.pop("style", "hei"),
        size_pt=kw.pop("size_pt", 12),
        noise=kw.pop("noise", 0.2),
        **kw,
    )
    img, truth = render_form(spec)
    path = tmp_path / name
    img.save(path, "JPEG", quality=spec.jpeg_quality, dpi=(spec.dpi, spec.dpi))
    return path, truth


def add_dossier(home, number=NUMBER, status="cataloged", year=2024):
    now = now_iso()
    with home.catalog.write() as conn:
        return conn.execute(
            "INSERT INTO dossiers(number, fonds_code, year, retention, status, scanned_by, "
            "completed_by, created_at, updated_at) VALUES (?, 'X001', ?, 'D100', ?, 'clerk1', "
            "'clerk1', ?, ?)",
            (number, year, status, now, now),
        ).lastrowid


def add_page(home, dossier_id, seq, source, number=NUMBER, queue=True):
    file_name = f"{number}-{seq:04d}.jpg"
    path = page_image_path(home.path, number, file_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(source.read_bytes())
    with home.catalog.write() as conn:
        page_id = conn.execute(
            "INSERT INTO pages(dossier_id, seq, file_name, dpi, created_at) VALUES (?, ?, ?, 200, ?)",
            (dossier_id, seq, file_name, now_iso()),
        ).lastrowid
        if queue:
            enqueue(conn, page_id)
    return page_id


def text_row(home, page_id):
    return home.catalog.one("SELECT * FROM page_text WHERE page_id = ?", (page_id,))


def plain(text):
    return "".join(text.split())


# -- choosing an engine -------------------------------------------------------------------------
def test_auto_engine_chooses_by_memory_and_cores():
    gib = 1024**3
    assert engines.auto_engine(memory=8 * gib, cores=2, rapidocr_ok=True) == "rapidocr"  # 8 GB desktop
    assert engines.auto_engine(memory=4 * gib, cores=4, rapidocr_ok=True) == "tesseract"  # no room beside the window
    assert engines.auto_engine(memory=16 * gib, cores=1, rapidocr_ok=True) == "tesseract"
    assert engines.auto_engine(memory=16 * gib, cores=8, rapidocr_ok=False) == "tesseract"
    assert engines.workers_for("rapidocr", memory=8 * gib, cores=2) == 2
    assert engines.workers_for("rapidocr", memory=int(5.5 * gib), cores=4) == 1
    assert engines.auto_engine(memory=int(4.5 * gib), cores=2, rapidocr_ok=True) == "tesseract"
    assert engines.workers_for("rapidocr", memory=2 * gib, cores=4) == 1  # at least one
    assert engines.workers_for("tesseract", memory=2 * gib, cores=4) == 4


def test_unknown_engine_is_a_clear_error_in_both_languages(home):
    with pytest.raises(OcrError) as info:
        engines.resolve_engine("abbyy")
    assert "abbyy" in info.value.en and "tesseract" in info.value.en and "未知的识别引擎" in info.value.zh
    home.set_setting("ocr.engine", "abbyy")
    with pytest.raises(OcrError):
        OcrRunner(home)
    home.set_setting("ocr.engine", "tesseract")
    assert OcrRunner(home).engine == "tesseract"


def test_engine_setting_refuses_values_it_does_not_know(sessions, home):
    from scanstation import settings
    from scanstation.errors import InvalidInput

    with pytest.raises(InvalidInput) as info:
        settings.set_value(sessions["admin"], "ocr.engine", "rapid")
    assert "tesseract, rapidocr, auto" in info.value.en and "可选" in info.value.zh
    with pytest.raises(InvalidInput):
        settings.set_value(sessions["admin"], "ocr.low_confidence", 140)
    with pytest.raises(Refused):
        settings.set_value(sessions["clerk1"], "ocr.engine", "tesseract")
    settings.set_value(sessions["admin"], "ocr.engine", "tesseract")
    assert settings.get(home, "ocr.engine") == "tesseract" and OcrRunner(home).engine == "tesseract"
    assert "0.65 GB" in settings.DECLARED["ocr.engine"].en  # the settings say what each engine costs


# -- the engines, for real ------------------------------------------------------------------------
def test_tesseract_layout_from_tsv_keeps_boxes_and_no_spaces_between_cjk():
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    rows = [
        "4\t1\t1\t1\t1\t0\t10\t20\t300\t40\t-1\t",
        "5\t1\t1\t1\t1\t1\t10\t20\t40\t40\t91.5\t社",
        "5\t1\t1\t1\t1\t2\t52\t21\t40\t39\t88.0\t会",
        "5\t1\t1\t1\t1\t3\t100\t20\t210\t40\t70.0\tX001-ZY·DJ",
        "4\t1\t1\t1\t2\t0\t10\t80\t50\t40\t-1\t",
        "5\t1\t1\t1\t2\t1\t10\t80\t50\t40\t-1\t ",
    ]  # an empty line is dropped
    layout = engines.layout_from_tsv("\n".join([header, *rows]), 400, 200, "tesseract 5 chi_sim")
    assert len(layout.lines) == 1
    line = layout.lines[0]
    assert line.text == "社会 X001-ZY·DJ" and line.box == (10, 20, 310, 60)
    assert [w.box for w in line.words] == [(10, 20, 50, 60), (52, 21, 92, 60), (100, 20, 310, 60)]
    assert line.words[0].confidence == 91.5 and line.confidence == pytest.approx((91.5 + 88 + 70) / 3, abs=0.01)


@pytest.mark.parametrize("engine", engines.ENGINES)
def test_engine_reads_a_generated_form_with_text_and_layout(tmp_path, engine):
    path, truth = form(tmp_path)
    result = engines.read_page(path, engine, timeout_s=120, dpi=200)
    text = plain(result.text)
    assert truth.id_number in text
    assert "社会保险事业管理中心" in text
    assert result.engine.startswith(engine) and result.layout.engine == result.engine
    assert result.confidence is not None and 50 < result.confidence <= 100
    layout = result.layout
    assert (layout.width, layout.height) == (1654, 2339)  # boxes in pixels of the page given
    assert len(layout.lines) >= len(truth.lines) - 3
    for line in layout.lines:
        x0, y0, x1, y1 = line.box
        assert 0 <= x0 < x1 <= layout.width and 0 <= y0 < y1 <= layout.height
        assert line.words and "".join(w.text for w in line.words).replace(" ", "") == line.text.replace(" ", "")
        for word in line.words:  # each word inside its line (a few pixels of slack)
            assert word.box[0] >= x0 - 4 and word.box[2] <= x1 + 4 and word.box[1] >= y0 - 6 and word.box[3] <= y1 + 6
        assert not __import__("re").search(f"[{HAN}] +[{HAN}]", line.text)  # CJK text without inserted spaces
    # the header line sits at the top of the page, where it was drawn
    header = next(ln for ln in layout.lines if "管理中心" in ln.text)
    assert header.box[1] < layout.height * 0.1


def test_pp_ocr_reads_the_dossier_number_exactly_and_through_a_seal(tmp_path):
    path, truth = form(tmp_path, seed=5, stamp=True, handwritten=True, skew_deg=0.6, style="song", size_pt=11, dpi=300)
    result = engines.read_page(path, "rapidocr")
    assert truth.id_number in plain(result.text)
    # the 档号 is found by search even where a "·" is read as "-" or "." (its tokens in a row)
    assert search.index_streams(truth.number)[0] in search.index_streams(result.text)[0]


def test_pp_ocr_detects_on_a_reduced_page_and_reads_full_resolution_crops_one_by_one(tmp_path):
    """The measured speed settings are in force: detection on the page scaled to DET_MAX_SIDE (not
    rapidocr's own 2000 px), recognition REC_BATCH crops per run at full resolution, boxes in page pixels."""
    path, truth = form(tmp_path, seed=4, dpi=300, size_pt=10)
    reader = engines._rapidocr()
    det_shapes, rec_shapes = [], []
    det_infer, rec_session = reader.text_det.infer, reader.text_rec.session

    def det(inputs):
        det_shapes.append(inputs.shape)
        return det_infer(inputs)

    def rec(inputs):
        rec_shapes.append(inputs.shape)
        return rec_session(inputs)

    reader.text_det.infer, reader.text_rec.session = det, rec
    try:
        result = engines.read_page(path, "rapidocr")
    finally:
        reader.text_det.infer, reader.text_rec.session = det_infer, rec_session
    assert len(det_shapes) == 1 and max(det_shapes[0][2:]) <= engines.DET_MAX_SIDE < 2000
    assert max(det_shapes[0][2:]) >= engines.DET_MAX_SIDE - 32  # scaled down to it, not further
    assert engines.REC_BATCH == 2 and rec_shapes and max(shape[0] for shape in rec_shapes) == engines.REC_BATCH
    # crops read two at a time (low-score crops are dropped after reading)
    assert sum(shape[0] for shape in rec_shapes) >= len(result.layout.lines) > len(rec_shapes)
    assert (result.layout.width, result.layout.height) == (2480, 3508)
    assert max(line.box[3] for line in result.layout.lines) > 3508 * 0.8  # the footer, in page pixels
    assert truth.id_number in plain(result.text)


def test_pp_ocr_models_ship_in_the_wheel_and_nothing_is_downloaded(tmp_path, monkeypatch):
    from pathlib import Path

    import rapidocr_onnxruntime

    models = sorted(p.name for p in (Path(rapidocr_onnxruntime.__file__).parent / "models").glob("*.onnx"))
    assert any("det" in m for m in models) and any("rec" in m for m in models)

    def no_network(*args, **kwargs):
        raise AssertionError("OCR tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(engines, "_cache", {})  # the models are loaded again, offline
    path, truth = form(tmp_path, seed=3)
    assert truth.id_number in plain(engines.read_page(path, "rapidocr").text)


@pytest.mark.parametrize("engine", engines.ENGINES)
def test_engine_reads_a_page_held_in_memory(tmp_path, engine):
    path, truth = form(tmp_path, seed=8, stamp=True)  # a colour page (red seal): tesseract gets the red channel
    result = engines.read_page(path.read_bytes(), engine, timeout_s=120, dpi=200)
    assert truth.id_number in plain(result.text) and result.layout.lines


def test_rapidocr_missing_is_reported_with_the_install_command(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("rapidocr_onnxruntime"):
            raise ImportError("No module named 'rapidocr_onnxruntime'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.setattr(engines, "_cache", {})
    problems = engines.check_engine("rapidocr")
    assert problems and "pip install --no-deps rapidocr-onnxruntime" in problems[0]
    assert engines.auto_engine(memory=64 * 1024**3, cores=8) == "tesseract"
    job = engines.ocr_page_job(b"\xff\xd8\xff" + b"\x00" * 64, "rapidocr", 10, 200)
    assert job["ok"] is False and "rapidocr" in job["error_en"]


# -- the queue: text, engine, confidence and layout together --------------------------------------
def test_queue_stores_engine_confidence_and_layout_and_search_shows_the_engine(home, tmp_path):
    path, truth = form(tmp_path)
    d = add_dossier(home)
    page = add_page(home, d, 1, path)
    stats = OcrRunner(home, workers=1, engine="rapidocr").run_until_empty()
    assert stats.done == 1
    row = text_row(home, page)
    assert row["engine"].startswith("rapidocr") and row["confidence"] > 80 and row["redo_engine"] == ""
    layout = load_layout(home.catalog, page)
    assert layout is not None and layout.engine == row["engine"] and layout.lines
    hits = search.search(home.catalog, "管理中心")
    assert hits and hits[0].page == 1 and hits[0].engine == row["engine"]


def test_text_stored_without_a_layout_drops_the_old_layout(home, tmp_path):
    path, _ = form(tmp_path)
    d = add_dossier(home)
    page = add_page(home, d, 1, path)
    OcrRunner(home, workers=1, engine="tesseract").run_until_empty()
    assert load_layout(home.catalog, page) is not None
    with home.catalog.write() as conn:
        store_page_text(conn, page, "人工录入的文字", 100.0)
    assert load_layout(home.catalog, page) is None and text_row(home, page)["engine"] == ""


def test_redo_with_another_engine_keeps_the_text_searchable_until_read_again(home, sessions, tmp_path):
    path, truth = form(tmp_path)
    d = add_dossier(home)
    page = add_page(home, d, 1, path)
    OcrRunner(home, workers=1, engine="tesseract").run_until_empty()
    assert text_row(home, page)["engine"].startswith("tesseract")
    with pytest.raises(Refused):
        actions.redo(sessions["qc1"], "rapidocr", number=NUMBER)  # QC may not change the text
    result = actions.redo(sessions["archivist1"], "rapidocr", number=NUMBER.replace("·", "・"))
    assert result == {"engine": "rapidocr", "queued": 1, "selection": NUMBER.replace("·", "・")}
    row = text_row(home, page)
    assert row["status"] == "queued" and row["redo_engine"] == "rapidocr" and row["text"]
    assert search.search(home.catalog, "管理中心")  # the old text is still found
    audit = home.catalog.one("SELECT * FROM audit_log WHERE action = 'ocr.redo'")
    assert audit and audit["user"] == "archivist1"
    # the station's engine is tesseract, the page asked for PP-OCR
    stats = OcrRunner(home, workers=1, engine="tesseract").run_until_empty()
    row = text_row(home, page)
    assert stats.done == 1 and row["engine"].startswith("rapidocr") and row["redo_engine"] == ""
    assert load_layout(home.catalog, page).engine == row["engine"]


def test_redo_selection_by_year_and_all_and_errors(home, sessions, tmp_path):
    path, _ = form(tmp_path)
    d1 = add_dossier(home, NUMBER, year=2024)
    d2 = add_dossier(home, "X001-ZY·DJ·2023·D100-0001-001", year=2023)
    add_page(home, d1, 1, path, queue=False)
    add_page(home, d2, 1, path, number="X001-ZY·DJ·2023·D100-0001-001", queue=False)
    s = sessions["admin"]
    assert actions.redo(s, "tesseract", year=2023)["queued"] == 1
    assert actions.redo(s, "tesseract", all_pages=True)["queued"] == 2
    with pytest.raises(NotFound) as info:
        actions.redo(s, "tesseract", number="X001-ZY·DJ·2024·D100-0009-009")
    assert "没有档号" in info.value.zh
    with pytest.raises(Exception) as info:
        actions.redo(s, "tesseract")
    assert "--year" in info.value.en
    with pytest.raises(OcrError):
        actions.redo(s, "omnipage", all_pages=True)


def test_migration_41_applies_to_a_catalog_with_pages_already_read(home, tmp_path):
    path, _ = form(tmp_path)
    d = add_dossier(home)
    page = add_page(home, d, 1, path, queue=False)
    conn = home.catalog.conn
    conn.execute("DROP INDEX page_text_confidence")
    conn.execute("ALTER TABLE page_text DROP COLUMN engine")
    conn.execute("ALTER TABLE page_text DROP COLUMN redo_engine")
    conn.execute("DELETE FROM migrations WHERE number = 41")
    conn.execute(
        "INSERT INTO page_text(page_id, status, attempts, text, confidence, error, updated_at) "
        "VALUES (?, 'done', 1, '旧的识别文字', 77.0, '', ?)",
        (page, now_iso()),
    )
    assert home.catalog.migrate() == [41]
    row = text_row(home, page)
    assert (
        row["text"] == "旧的识别文字" and row["engine"] == "" and row["redo_engine"] == "" and row["confidence"] == 77
    )


# -- the CLI ---------------------------------------------------------------------------------------
def test_cli_ocr_text_and_redo(home, tmp_path, monkeypatch, capsys):
    from scanstation.cli.main import main as cli_main
    from tests.conftest import PASSWORD

    path, truth = form(tmp_path)
    d = add_dossier(home)
    add_page(home, d, 1, path)
    add_page(home, d, 2, path, queue=False)
    OcrRunner(home, workers=1, engine="tesseract").run_until_empty()
    monkeypatch.setenv("SCANSTATION_PASSWORD", PASSWORD)
    base = ["--home", str(home.path), "--json"]
    assert cli_main(base + ["--user", "admin", "ocr", "text", NUMBER]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["number"] == NUMBER and [p["page"] for p in out["pages"]] == [1, 2]
    first = out["pages"][0]
    assert first["engine"].startswith("tesseract") and first["confidence"] > 50 and first["status"] == "done"
    assert truth.id_number not in plain(first["text"])  # masked (R40)
    assert truth.id_number[:4] + "**********" + truth.id_number[-4:] in plain(first["text"])
    assert out["pages"][1]["status"] == "not queued" and out["pages"][1]["text"] == ""
    assert (
        cli_main(base + ["--user", "admin", "ocr", "text", NUMBER, "--unmasked"]) == ExitCode.REFUSED
    )  # admin may not
    capsys.readouterr()
    assert cli_main(base + ["--user", "archivist1", "ocr", "text", NUMBER, "--page", "1", "--unmasked"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["pages"]) == 1 and truth.id_number in plain(out["pages"][0]["text"])
    assert home.catalog.one("SELECT 1 FROM audit_log WHERE action = 'personal.view' AND user = 'archivist1'")
    assert cli_main(base + ["--user", "admin", "ocr", "text", NUMBER, "--page", "7"]) == ExitCode.NOT_FOUND
    captured = capsys.readouterr()
    assert "第 7 页" in captured.out + captured.err
    assert cli_main(base + ["--user", "admin", "ocr", "text", "X009-ZY·DJ·2024·D100-0001-001"]) == ExitCode.NOT_FOUND
    capsys.readouterr()
    # human output says page, engine and confidence
    assert cli_main(["--home", str(home.path), "--user", "admin", "ocr", "text", NUMBER, "--page", "1"]) == 0
    human = capsys.readouterr().out
    assert "tesseract" in human and "置信度" in human
    # redo: queued for PP-OCR, read with --wait
    assert cli_main(base + ["--user", "admin", "ocr", "redo", "--engine", "rapidocr", NUMBER, "--wait"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["run"]["done"] == 2
    assert cli_main(base + ["--user", "admin", "ocr", "text", NUMBER]) == 0
    pages = json.loads(capsys.readouterr().out)["pages"]
    assert all(p["engine"].startswith("rapidocr") for p in pages)
    assert cli_main(base + ["--user", "qc1", "ocr", "redo", "--engine", "tesseract", "--all"]) == ExitCode.REFUSED
    # a page whose reading failed says why
    with home.catalog.write() as conn:
        conn.execute(
            "UPDATE page_text SET status = 'failed', error = 'The page image is missing.\n页面图像不存在。' "
            "WHERE page_id = (SELECT id FROM pages WHERE seq = 2)"
        )
    assert cli_main(["--home", str(home.path), "--user", "admin", "ocr", "text", NUMBER, "--page", "2"]) == 0
    human = capsys.readouterr().out
    assert "failed" in human and "页面图像不存在" in human
    # search results say which engine read the page
    assert cli_main(base + ["--user", "admin", "search", "管理中心"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits and hits[0]["engine"].startswith("rapidocr")


# -- search that forgives OCR ------------------------------------------------------------------------
def test_search_forgives_the_dots_ocr_reads_in_a_dossier_number(home):
    d = add_dossier(home)
    other = add_dossier(home, "X001-ZY·DJ·2024·D100-0002-001")
    with home.catalog.write() as conn:
        search.index_dossier(conn, d)
        search.index_dossier(conn, other)
    pages = {}
    for seq, text in enumerate(
        [
            "档号 X001-ZY.DJ:2024。D100-0001-001 姓名 张三",
            "档号 X001-ZY。 DY . 2024·D100-0002-001",
            "缴费基数 3.5 元，时间 10:30",
        ],
        1,
    ):
        with home.catalog.write() as conn:
            page_id = conn.execute(
                "INSERT INTO pages(dossier_id, seq, file_name, created_at) VALUES (?, ?, ?, ?)",
                (d, seq, f"p{seq}.jpg", now_iso()),
            ).lastrowid
            store_page_text(conn, page_id, text, 90.0, engine="tesseract 5.3.0 chi_sim")
        pages[seq] = page_id
    hits = search.search(home.catalog, NUMBER, limit=50)
    page_hits = [(h.page, h.engine) for h in hits if h.field == "text"]
    assert (1, "tesseract 5.3.0 chi_sim") in page_hits and all(p != 2 for p, _ in page_hits)
    snippet = next(h.snippet for h in hits if h.page == 1)
    assert "【X001-ZY.DJ:2024。D100-0001-001】" in snippet
    # typed with the dots OCR prints, the dossier is found by its 档号 too
    typed = search.search(home.catalog, "X001-ZY.DJ.2024.D100-0001-001")
    assert typed[0].field == "number" and typed[0].number == NUMBER
    assert search.compile_query("X001-ZY:DJ:2024").code == "x001-zy·dj·2024"
    # full-width and half-width letters and digits are the same
    assert any(h.page == 3 for h in search.search(home.catalog, "３．５"))
    assert any(h.page == 1 for h in search.search(home.catalog, "ｘ００１"))
    # decimals and times are not 档号-like: left alone
    assert search.normalize("3.5 元 10:30 a.b") == "3.5 元 10:30 a.b"
    assert search.normalize("X008-ZY.。 DY . 2015。D50") == "x008-zy·dy·2015·d50"


# -- QC: low-confidence pages ---------------------------------------------------------------------
def test_qc_queue_marks_and_filters_low_confidence_pages(home, sessions):
    d1 = add_dossier(home, NUMBER, status="completed")
    d2 = add_dossier(home, "X001-ZY·DJ·2024·D100-0002-001", status="completed")
    for d, confidences in ((d1, (95.0, 42.5, 71.0)), (d2, (93.0, 96.0))):
        for seq, conf in enumerate(confidences, 1):
            with home.catalog.write() as conn:
                page_id = conn.execute(
                    "INSERT INTO pages(dossier_id, seq, file_name, created_at) VALUES (?, ?, ?, ?)",
                    (d, seq, f"{d}-{seq}.jpg", now_iso()),
                ).lastrowid
                store_page_text(conn, page_id, "文字", conf, engine="rapidocr 1.4.4 PP-OCRv4")
    rows = {r["number"]: r for r in qc.queue(sessions["qc1"])}
    assert (
        rows[NUMBER]["low_confidence_pages"] == [2, 3]
        and rows["X001-ZY·DJ·2024·D100-0002-001"]["low_confidence_pages"] == []
    )
    assert [r["number"] for r in qc.queue(sessions["qc1"], low_confidence_only=True)] == [NUMBER]
    home.set_setting("ocr.low_confidence", 50.0)
    assert qc.queue(sessions["qc1"], low_confidence_only=True)[0]["low_confidence_pages"] == [2]
    with pytest.raises(Refused):
        qc.queue(sessions["clerk1"], low_confidence_only=True)


def test_a_page_queued_for_an_engine_that_cannot_run_waits_in_the_queue(home, sessions, tmp_path, monkeypatch):
    path, _ = form(tmp_path)
    d = add_dossier(home)
    page = add_page(home, d, 1, path)
    OcrRunner(home, workers=1, engine="tesseract").run_until_empty()
    old = text_row(home, page)["text"]
    actions.redo(sessions["admin"], "rapidocr", number=NUMBER)
    # PP-OCR disappears before the queue gets to the page (e.g. a broken update)
    monkeypatch.setattr(engines, "rapidocr_problem", lambda: "PP-OCR is not installed. Install it with: pip ...")
    with pytest.raises(OcrError) as info:
        OcrRunner(home, workers=1, engine="tesseract").run_until_empty()
    assert "PP-OCR is not installed" in info.value.en and "无法进行文字识别" in info.value.zh
    row = text_row(home, page)
    assert row["status"] == "queued" and row["attempts"] == 0 and row["redo_engine"] == "rapidocr"
    assert row["text"] == old and search.search(home.catalog, "管理中心")  # nothing lost meanwhile
    # and a redo asking for it now is refused before anything is queued
    with pytest.raises(Exception) as refused:
        actions.redo(sessions["admin"], "rapidocr", all_pages=True)
    assert "rapidocr" in refused.value.en and "无法运行识别引擎" in refused.value.zh


def test_the_pages_own_dossier_number_is_written_back_where_only_separators_were_misread():
    n = "X007-ZY·ZY·2023·D100-6977-250"
    assert engines.restore_dossier_number("档号 X007-ZYZY·2023·D100-6977-250 姓名", n) == f"档号 {n} 姓名"
    assert engines.restore_dossier_number("X007-ZY。 ZY . 2023:D100-6977-250", n) == n
    for other in (
        "X007-ZY·ZY·2023·D100-6977-251",  # another dossier: a digit differs
        "X007-ZY·ZY·2023·D100-6977-2501",  # longer
        "AX007-ZY·ZY·2023·D100-6977-250",  # part of a longer token
        "X007-ZY·ZX·2023·D100-6977-250",
    ):
        assert engines.restore_dossier_number(other, n) == other
    assert engines.restore_dossier_number("", n) == "" and engines.restore_dossier_number("X007", "X007") == "X007"


def test_queue_stores_the_dossier_number_as_filed_while_the_layout_keeps_what_was_read(home, tmp_path, monkeypatch):
    path, _ = form(tmp_path)
    d = add_dossier(home)
    page = add_page(home, d, 1, path)
    real = engines.ocr_page_job

    def misread(source, engine, timeout_s, dpi):  # the engine reads "·" as "." (what tesseract does)
        job = real(source, engine, timeout_s, dpi)
        job["text"] += "\n档号 X001-ZY.DJ.2024.D100-0001-001"
        return job

    runner = OcrRunner(home, workers=1, engine="tesseract")
    monkeypatch.setattr(engines, "ocr_page_job", misread)
    import concurrent.futures as cf

    class InlinePool:  # the job runs in this process so the patch applies
        def submit(self, fn, *args):
            future = cf.Future()
            future.set_result(fn(*args))
            return future

        def shutdown(self, **kwargs):
            pass

    monkeypatch.setattr(runner, "_new_pool", lambda: InlinePool())
    assert runner.run_until_empty().done == 1
    assert "档号 " + NUMBER in text_row(home, page)["text"]
    assert "X001-ZY.DJ" not in text_row(home, page)["text"]
