"""OCR: the tesseract wrapper and the persistent queue, with the real tesseract (chi_sim+eng)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from scanstation import search
from scanstation.errors import ExitCode, InvalidInput
from scanstation.home import Home, now_iso
from scanstation.ocr import engines, tesseract
from scanstation.ocr.queue import OcrRunner, enqueue, page_image_path, queue_counts

FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
NUMBER = "X001-ZY·DJ·2024·D100-0001-001"
PHRASES = ["社会保险参保人员登记表", "养老保险", "缴费基数", "档案管理"]


def render_page(path: Path, lines: list[str], width: int = 1800) -> Path:
    """A 300 dpi page strip with Chinese text (64 px ≈ 15 pt at 300 dpi)."""
    font = ImageFont.truetype(FONT, 64, index=0)
    img = Image.new("L", (width, 140 + 130 * len(lines)), 255)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((120, 90 + 130 * i), line, font=font, fill=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "JPEG", quality=90, dpi=(300, 300))
    return path


def ensure_search_tables(home: Home) -> None:
    """Apply this area's catalog migration when the catalog does not have it yet."""
    conn = home.catalog.conn
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_pages'").fetchone():
        conn.executescript(search.MIGRATION[2])


@pytest.fixture
def home(tmp_path):
    h = Home.create(tmp_path / "h", "X001", "S01")
    ensure_search_tables(h)
    yield h
    h.close()


def add_dossier(home: Home, number: str = NUMBER) -> int:
    now = now_iso()
    with home.catalog.write() as conn:
        return conn.execute(
            "INSERT INTO dossiers(number, fonds_code, year, retention, created_at, updated_at) "
            "VALUES (?, 'X001', 2024, 'D100', ?, ?)",
            (number, now, now),
        ).lastrowid


def add_page(
    home: Home,
    dossier_id: int,
    seq: int,
    number: str = NUMBER,
    lines=None,
    content: bytes | None = None,
    state: str = "active",
) -> int:
    file_name = f"{number}-{seq:04d}.jpg"
    path = page_image_path(home.path, number, file_name)
    if content is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    elif lines:
        render_page(path, lines)
    with home.catalog.write() as conn:
        page_id = conn.execute(
            "INSERT INTO pages(dossier_id, seq, state, file_name, dpi, created_at) VALUES (?, ?, ?, ?, 300, ?)",
            (dossier_id, seq, state, file_name, now_iso()),
        ).lastrowid
        enqueue(conn, page_id)
    return page_id


def text_row(home: Home, page_id: int) -> dict:
    return home.catalog.one("SELECT * FROM page_text WHERE page_id = ?", (page_id,))


def test_check_tesseract_is_ready_and_names_missing_language():
    assert tesseract.check_tesseract("chi_sim+eng") == []
    problems = tesseract.check_tesseract("chi_sim+zzz")
    assert len(problems) == 1 and "apt-get install tesseract-ocr-zzz" in problems[0]


def test_text_from_tsv_rebuilds_lines_and_removes_spaces_between_cjk():
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    rows = [
        ("1", "1", "1", "1", "1", "90.0", "社会"),
        ("1", "1", "1", "1", "2", "80.0", "保"),
        ("1", "1", "1", "1", "3", "70.0", "险"),
        ("1", "1", "1", "2", "1", "95.0", "ID"),
        ("1", "1", "1", "2", "2", "85.0", "110101199003071234"),
        ("1", "2", "1", "1", "1", "-1", " "),
    ]
    tsv = "\n".join([header] + ["5\t" + "\t".join(r[:5]) + "\t0\t0\t1\t1\t" + r[5] + "\t" + r[6] for r in rows])
    text, confidence, words = tesseract.text_from_tsv(tsv)
    assert text == "社会保险\nID 110101199003071234"
    assert words == 5
    assert confidence == pytest.approx(84.0)
    assert tesseract.tidy_cjk_spaces("养老 保险 ID 12 缴费") == "养老保险 ID 12 缴费"


@pytest.mark.parametrize("engine", engines.ENGINES)
def test_ocr_of_generated_chinese_page_finds_its_phrases(tmp_path, engine):
    page = render_page(tmp_path / "p.jpg", ["社会保险参保人员登记表", "养老保险 缴费基数 档案管理"])
    result = engines.read_page(page, engine, timeout_s=60, dpi=300)
    for phrase in PHRASES:
        assert phrase in result.text
    assert result.confidence is not None and result.confidence > 60


@pytest.mark.parametrize("engine", engines.ENGINES)
def test_ocr_refuses_non_image_and_missing_files(tmp_path, engine):
    bad = tmp_path / "bad.jpg"
    bad.write_text("/etc/passwd\n")  # tesseract would read this as a list of image paths
    with pytest.raises(tesseract.OcrError) as info:
        engines.read_page(bad, engine)
    assert "not an image" in info.value.en and "不是图像文件" in info.value.zh
    with pytest.raises(tesseract.OcrError) as info:
        engines.read_page(tmp_path / "nope.jpg", engine)
    assert "missing" in info.value.en
    with pytest.raises(tesseract.OcrError) as info:
        engines.read_page(b"not an image at all", engine)
    assert "不是图像" in info.value.zh


def test_page_image_path_refuses_names_that_leave_the_store(tmp_path):
    assert page_image_path(tmp_path, NUMBER, NUMBER + "-0001.jpg") == tmp_path / "images" / NUMBER / (
        NUMBER + "-0001.jpg"
    )
    with pytest.raises(InvalidInput):
        page_image_path(tmp_path, NUMBER, "../../catalog.sqlite")


def test_queue_corrupt_page_is_failed_and_does_not_block_the_next(home):
    d = add_dossier(home)
    good1 = add_page(home, d, 1, lines=["养老保险 缴费基数 档案管理"])
    corrupt = add_page(home, d, 2, content=b"\xff\xd8\xff\xe0" + b"\x00garbage" * 50)  # JPEG header, broken body
    missing = add_page(home, d, 3)  # no image file at all
    good2 = add_page(home, d, 4, lines=["社会保险参保人员登记表"])
    seen = []
    stats = OcrRunner(home, workers=2, timeout_s=60, max_attempts=2).run_until_empty(progress=seen.append)
    assert (stats.done, stats.failed) == (2, 4)  # two bad pages, each tried twice
    for page_id in (corrupt, missing):
        row = text_row(home, page_id)
        assert row["status"] == "failed" and row["attempts"] == 2 and row["error"]
    assert "missing" in text_row(home, missing)["error"]
    for page_id, phrase in ((good1, "档案管理"), (good2, "参保人员登记表")):
        row = text_row(home, page_id)
        assert row["status"] == "done" and phrase in row["text"] and row["confidence"] > 50
    assert seen and seen[-1].done == 2
    counts = queue_counts(home.catalog, max_attempts=2)
    assert counts["done"] == 2 and counts["failed"] == 2 and counts["retry"] == 0 and counts["running"] == 0
    # the runner indexed what it read
    hits = search.search(home.catalog, "档案管理")
    assert [(h.number, h.page) for h in hits] == [(NUMBER, 1)]


def test_queue_timeout_is_failed_then_retried_until_max_attempts(home):
    d = add_dossier(home)
    page = add_page(home, d, 1, lines=["养老保险 缴费基数"])
    stats = OcrRunner(home, workers=1, timeout_s=0.01, max_attempts=2, engine="tesseract").run_until_empty()
    row = text_row(home, page)
    assert stats.failed == 2 and row["status"] == "failed" and row["attempts"] == 2
    assert "time limit" in row["error"] and "时限" in row["error"]
    # a later run with a sane limit and one attempt left reads it
    stats = OcrRunner(home, workers=1, timeout_s=60, max_attempts=3, engine="tesseract").run_until_empty()
    row = text_row(home, page)
    assert stats.done == 1 and row["status"] == "done" and row["attempts"] == 3 and "缴费基数" in row["text"]
    assert row["error"] == ""


def test_queue_rows_left_running_by_a_crash_are_picked_up_again(home):
    d = add_dossier(home)
    page = add_page(home, d, 1, lines=["社会保险参保人员登记表", "档案管理"])
    with home.catalog.write() as conn:  # what a station killed in the middle of OCR leaves behind
        conn.execute("UPDATE page_text SET status = 'running' WHERE page_id = ?", (page,))
    assert OcrRunner(home, workers=1).pending() == 0
    stats = OcrRunner(home, workers=1, timeout_s=60).run_until_empty()
    assert stats.requeued == 1 and stats.done == 1
    row = text_row(home, page)
    assert row["status"] == "done" and "档案管理" in row["text"]


def test_queue_skips_replaced_pages_and_cancel_requeues(home):
    d = add_dossier(home)
    replaced = add_page(home, d, 1, lines=["档案管理"], state="replaced")
    stats = OcrRunner(home, workers=1).run_until_empty(cancel=threading.Event())
    assert stats.skipped == 1 and text_row(home, replaced)["status"] == "skipped"
    page = add_page(home, d, 2, lines=["档案管理"])
    stop = threading.Event()
    stop.set()
    stats = OcrRunner(home, workers=1).run_until_empty(cancel=stop)
    assert stats.cancelled and text_row(home, page)["status"] == "queued"


def test_background_mode_reads_pages_enqueued_while_running(home):
    d = add_dossier(home)
    runner = OcrRunner(home, workers=1, timeout_s=60)
    runner.start(poll_s=0.2)
    try:
        page = add_page(home, d, 1, lines=["社会保险参保人员登记表", "缴费基数"])
        runner.wake()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and text_row(home, page)["status"] != "done":
            time.sleep(0.2)
    finally:
        runner.stop()
    assert not runner.running
    assert "缴费基数" in text_row(home, page)["text"]


def test_cli_ocr_status_and_wait(home, monkeypatch, capsys):
    import json

    from scanstation.cli.main import main as cli_main
    from scanstation.users import hash_password

    with home.catalog.write() as conn:
        conn.execute(
            "INSERT INTO users(name, roles, password_hash, created_at) VALUES ('qc1', 'qc', ?, ?)",
            (hash_password("secret-pass"), now_iso()),
        )
    d = add_dossier(home)
    add_page(home, d, 1, lines=["社会保险参保人员登记表", "档案管理"])
    monkeypatch.setenv("SCANSTATION_PASSWORD", "secret-pass")
    base = ["--home", str(home.path), "--user", "qc1", "--json"]
    assert cli_main(base + ["ocr"]) == 0
    assert json.loads(capsys.readouterr().out)["queued"] == 1
    assert cli_main(base + ["ocr", "--wait", "--workers", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["done"] == 1 and out["queued"] == 0 and out["run"]["done"] == 1
    assert cli_main(base + ["search", "档案管理"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["page"] == 1
    assert cli_main(base + ["ocr", "--timeout", "0"]) == ExitCode.INVALID_INPUT
    with home.catalog.write() as conn:
        conn.execute("UPDATE page_text SET status = 'failed', attempts = 3, error = 'x'")
    assert cli_main(base + ["ocr", "--retry-failed"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["queued"] == 1 and out["failed"] == 0
