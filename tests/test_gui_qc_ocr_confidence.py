"""OCR quality in the GUI: the QC desk narrows the queue to dossiers with low-confidence pages; search hits
say which engine read the page."""

from __future__ import annotations

from PySide6.QtCore import Qt

from scanstation.home import now_iso
from scanstation.ocr.queue import store_page_text
from tests.test_gui_fixtures import (  # noqa: F401
    SAMPLE_NUMBER,
    catalog_home,
    close_window,
    make_window,
    presenter_log,
    wait_tasks,
    zh_ui,
)


def complete_with_confidences(home, number: str, confidences) -> None:
    with home.catalog.write() as conn:
        dossier = conn.execute("SELECT id FROM dossiers WHERE number = ?", (number,)).fetchone()[0]
        conn.execute(
            "UPDATE dossiers SET status = 'completed', scanned_by = 'clerk1', completed_by = 'clerk1' WHERE id = ?",
            (dossier,),
        )
        for seq, confidence in enumerate(confidences, 1):
            page = conn.execute(
                "INSERT INTO pages(dossier_id, seq, file_name, created_at) VALUES (?, ?, ?, ?)",
                (dossier, seq, f"{number}-{seq:04d}.jpg", now_iso()),
            ).lastrowid
            store_page_text(conn, page, "社会保险", confidence, engine="tesseract 5.3.0 chi_sim")


def test_qc_desk_filters_dossiers_with_low_confidence_pages(qtbot, catalog_home, zh_ui):
    numbers = [r["number"] for r in catalog_home.catalog.query("SELECT number FROM dossiers ORDER BY number LIMIT 2")]
    complete_with_confidences(catalog_home, numbers[0], (96.0, 41.0))
    complete_with_confidences(catalog_home, numbers[1], (95.0, 97.0))
    window = make_window(qtbot, catalog_home, "qc1")
    try:
        window.show_view("qc")
        wait_tasks(qtbot)
        desk = window.qc_desk
        model = desk.queue_model
        assert model.rowCount() == 2
        assert model.headerData(4, Qt.Orientation.Horizontal) == "识别置信度低"
        by_number = {model.rows[i]["number"]: model.index(i, 4).data() for i in range(model.rowCount())}
        assert by_number == {numbers[0]: "第2页", numbers[1]: ""}
        assert desk.low_confidence.text().startswith("只显示")
        desk.low_confidence.setChecked(True)
        wait_tasks(qtbot)
        qtbot.waitUntil(lambda: model.rowCount() == 1)
        assert model.rows[0]["number"] == numbers[0]
        desk.low_confidence.setChecked(False)
        wait_tasks(qtbot)
        qtbot.waitUntil(lambda: model.rowCount() == 2)
    finally:
        close_window(qtbot, window)


def test_search_results_say_which_engine_read_the_page(qapp, zh_ui):
    from scanstation.search import Hit
    from scanstation.ui.search_view import HitsModel

    model = HitsModel()
    model.set_hits(
        [
            Hit(
                number=SAMPLE_NUMBER,
                page=2,
                field="text",
                snippet="【社会保险】",
                score=-1.0,
                engine="rapidocr 1.4.4 PP-OCRv4",
            ),
            Hit(number=SAMPLE_NUMBER, page=None, field="title", snippet="参保", score=-0.5),
        ]
    )
    assert model.index(0, 2).data().endswith(" · rapidocr 1.4.4 PP-OCRv4")
    assert "·" not in model.index(1, 2).data()
