"""GUI of the year-end transfer: the station's batch view and the archive room's intake view.

Real homes, real keys, real packages (tests.test_transfer_fixtures); the views call the transfer core
through the task runner and the tests wait for it. Qt offscreen.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from scanstation.ui.core_api import CoreApi
from tests.test_gui_fixtures import presenter_log, wait_tasks  # noqa: F401
from tests.test_transfer_fixtures import NUMBERS, PASSPHRASE, archive_counts, make_archive, make_station, station_key

TIMEOUT = 30000


@pytest.fixture
def two_sides(tmp_path):
    """A station with three approved dossiers and an archive room; keys exchanged both ways."""
    from scanstation.transfer import keys

    station = make_station(tmp_path / "station")
    archive = make_archive(tmp_path / "archive")
    station_pem = station_key(station, tmp_path)
    archive_pem = station_key(archive, tmp_path, name="archive")
    keys.trust(archive.s["admin"], "S01", station_pem)
    keys.trust(station.s["admin"], "archive", archive_pem)
    yield station, archive, tmp_path
    station.close()
    archive.close()


def filler(**values):
    """A stand-in for dialog.exec(): fills the dialog's fields like a user, then presses OK."""
    seen = []

    def run(dialog):
        seen.append(dialog)
        for name, value in values.items():
            widget = getattr(dialog, name)
            if hasattr(widget, "setValue"):
                widget.setValue(value)
            elif hasattr(widget, "setChecked"):
                widget.setChecked(value)
            elif hasattr(widget, "setEditText"):
                widget.setEditText(value)
            elif hasattr(widget, "setPlainText"):
                widget.setPlainText(value)
            else:
                widget.setText(value)
        return QDialog.DialogCode.Accepted

    run.seen = seen
    return run


def batch_view(qtbot, session):
    from scanstation.ui.batch_view import BatchView

    view = BatchView(CoreApi(session))
    qtbot.addWidget(view)
    view.show()
    wait_tasks(qtbot)
    return view


def intake_view(qtbot, session):
    from scanstation.ui.intake_view import IntakeView

    view = IntakeView(CoreApi(session))
    qtbot.addWidget(view)
    view.show()
    return view


def state_of(view, row: int = 0) -> str:
    return view.model.rows[row]["state"] if len(view.model.rows) > row else ""


def flip_byte_in_image(package: Path) -> Path:
    image = sorted(package.rglob("*.jpg"))[0]
    data = bytearray(image.read_bytes())
    data[len(data) // 2] ^= 0xFF
    image.write_bytes(bytes(data))
    return image


def test_batch_and_intake_views_run_a_whole_transfer(qtbot, two_sides, presenter_log):  # noqa: F811
    station, archive, tmp = two_sides
    share, carry = tmp / "share", tmp / "carry"
    share.mkdir()
    carry.mkdir()

    # -- station: create (keyboard shortcut), seal (wrong passphrase first), send ----------------
    view = batch_view(qtbot, station.s["clerk1"])
    assert view.model.rows == [] and view.create_button.isEnabled() and not view.seal_button.isEnabled()
    view.run_dialog = filler(year=2024)
    view.activateWindow()
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool(view.run_dialog.seen), timeout=TIMEOUT)  # Ctrl+N opens the create dialog
    # (after the approved dossiers' categories were read off the GUI thread)
    qtbot.waitUntil(lambda: state_of(view) == "draft", timeout=TIMEOUT)
    wait_tasks(qtbot)
    row = view.model.rows[0]
    assert (row["batch_id"], row["fonds"], row["year"], row["dossiers"], row["deadline"]) == (
        "X001-2024-001",
        "X001",
        2024,
        3,
        "2025-03-31",
    )
    assert view.selected()["batch_id"] == "X001-2024-001"
    assert view.seal_button.isEnabled() and not view.send_button.isEnabled()
    qtbot.waitUntil(lambda: "X001-2024-001" in view.details.toPlainText(), timeout=TIMEOUT)

    view.run_dialog = filler(key="station", passphrase="wrong passphrase")
    qtbot.mouseClick(view.seal_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(presenter_log), timeout=TIMEOUT)
    wait_tasks(qtbot)
    assert state_of(view) == "draft" and presenter_log[-1][0] not in ("unexpected", "info")
    assert presenter_log[-1][1] in view.status.text()

    view.run_dialog = filler(key="station", passphrase=PASSPHRASE)
    qtbot.mouseClick(view.seal_button, Qt.MouseButton.LeftButton)
    assert view.busy and not view.create_button.isEnabled()  # nothing else starts while sealing
    qtbot.waitUntil(lambda: state_of(view) == "sealed", timeout=TIMEOUT)
    wait_tasks(qtbot)
    digest = view.model.rows[0]["tagmanifest_sm3"]
    assert len(digest) == 64 and view.model.index(0, 6).data().startswith(digest[:16])
    assert view.progress.isHidden() and "X001-2024-001" in view.status.text()

    view.run_dialog = filler(destination=str(share), as_zip=False)
    qtbot.mouseClick(view.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state_of(view) == "sent", timeout=TIMEOUT)
    wait_tasks(qtbot)
    sent = share / "X001-2024-001"
    assert (sent / "bagit.txt").is_file() and str(sent) in view.status.text()
    assert not view.cancel_button.isEnabled()  # a sent batch cannot be cancelled

    # -- archive room: the incoming list, then a tampered copy ----------------------------------
    intake = intake_view(qtbot, archive.s["archivist1"])
    tampered = tmp / "tampered" / sent.name
    shutil.copytree(sent, tampered)
    image = flip_byte_in_image(tampered)
    # a typo, or a file: said plainly with what to do next (in the language the UI runs in)
    for wrong, said in (
        (tmp / "no-such-share", ("There is no folder", "找不到文件夹")),
        (sent / "bagit.txt", ("is not a folder", "不是文件夹")),
    ):
        intake.incoming_edit.setText(str(wrong))
        intake.list_incoming()
        qtbot.waitUntil(lambda said=said: any(s in intake.status.text() for s in said), timeout=TIMEOUT)
        assert "Errno" not in intake.status.text()
        assert "shared folder" in intake.status.text() or "共享文件夹" in intake.status.text()
    intake.incoming_edit.setText(str(share))
    intake.list_incoming()
    qtbot.waitUntil(lambda: intake.incoming_list.count() == 1, timeout=TIMEOUT)
    assert intake.incoming_list.item(0).data(Qt.ItemDataRole.UserRole) == str(sent)

    before = archive_counts(archive.home)
    intake.check(str(tampered))
    qtbot.waitUntil(lambda: intake.result is not None, timeout=TIMEOUT)
    wait_tasks(qtbot)
    assert intake.result["checks_passed"] is False
    failing = [intake.report_model.lines[r] for r in intake.report_model.failing_rows()]
    assert any(line["status"] == "fail" and image.name in line["object"] for line in failing)
    row = intake.report_model.failing_rows()[0]
    assert intake.report_model.index(row, 3).data() == intake.report_model.status_text("fail")
    assert "#b91c1c" in intake.verdict.styleSheet() and "X001-2024-001" in intake.verdict.text()
    assert not intake.accept_button.isEnabled() and intake.reject_button.isEnabled()
    intake.failures_only.setChecked(True)
    shown = [r for r in range(intake.report_model.rowCount()) if not intake.report_table.isRowHidden(r)]
    assert shown == intake.report_model.failing_rows()
    presenter_log.clear()
    intake.decide("accept", "archive", PASSPHRASE)  # forced past the disabled button: the core refuses
    qtbot.waitUntil(lambda: bool(presenter_log), timeout=TIMEOUT)
    wait_tasks(qtbot)
    assert presenter_log[-1][0] == "Refused" and intake.decision is None
    assert archive_counts(archive.home) == before

    # -- the good package: all pass, sample shown, accepted ---------------------------------------
    intake.incoming_list.setCurrentRow(0)
    assert intake.path_edit.text() == str(sent)
    qtbot.mouseClick(intake.check_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: intake.result is not None, timeout=TIMEOUT)
    wait_tasks(qtbot)
    lines = intake.report_model.lines
    assert lines and all(line["status"] in ("pass", "not_available") for line in lines)
    assert {line["property"] for line in lines} == {"authenticity", "integrity", "usability", "security"}
    assert "#15803d" in intake.verdict.styleSheet() and "X001-2024-001" in intake.verdict.text()
    sample = intake.result["sample"]
    assert str(sample["seed"]) in intake.sample_label.text()
    assert [intake.sample_table.item(r, 0).text() for r in range(intake.sample_table.rowCount())] == sample[
        "dossiers"
    ] and set(sample["dossiers"]) <= set(NUMBERS)
    assert intake.accept_button.isEnabled()
    intake.set_finding(sample["dossiers"][0], "page 2 is blurred")  # a finding withdraws Accept…
    assert not intake.accept_button.isEnabled()
    intake.set_finding(sample["dossiers"][0], "")  # …until it is cleared
    assert intake.accept_button.isEnabled()

    intake.run_dialog = filler(key="archive", passphrase=PASSPHRASE, out_dir=str(carry))
    qtbot.mouseClick(intake.accept_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: intake.decision is not None, timeout=TIMEOUT)
    wait_tasks(qtbot)
    assert intake.decision["decision"] == "accepted"
    archived = archive.home.catalog.query("SELECT number, status FROM dossiers ORDER BY number")
    assert [(r["number"], r["status"]) for r in archived] == [(n, "archived") for n in sorted(NUMBERS)]
    receipt = next(carry.glob("*.json"))
    envelope = json.loads(receipt.read_text("utf-8"))
    assert envelope["receipt"]["decision"] == "accepted"
    assert envelope["receipt"]["sample"]["seed"] == sample["seed"]  # the sample that was reviewed
    assert str(receipt) in intake.status.text()
    assert not intake.accept_button.isEnabled() and not intake.reject_button.isEnabled()

    # -- station: import the receipt -------------------------------------------------------------
    view.choose_receipt_file = lambda: str(receipt)
    qtbot.mouseClick(view.receipt_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state_of(view) == "received", timeout=TIMEOUT)
    wait_tasks(qtbot)
    statuses = {r["status"] for r in station.home.catalog.query("SELECT status FROM dossiers")}
    assert statuses == {"transferred"}
    qtbot.waitUntil(lambda: "accepted" in view.details.toPlainText(), timeout=TIMEOUT)


def test_zip_package_rejected_with_a_finding_and_a_cancelled_batch(qtbot, two_sides, presenter_log):  # noqa: F811
    station, archive, tmp = two_sides
    share = tmp / "share"
    share.mkdir()
    view = batch_view(qtbot, station.s["clerk1"])

    # a batch of one category that is cancelled: its dossiers are approved again
    view.run_dialog = filler(year=2024, category="ZY·DJ")
    qtbot.mouseClick(view.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state_of(view) == "draft", timeout=TIMEOUT)
    wait_tasks(qtbot)
    asked = []
    view.confirm = lambda title, text: asked.append(text) or False
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    wait_tasks(qtbot)
    assert asked and state_of(view) == "draft"  # declined: nothing happens
    view.confirm = lambda title, text: True
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state_of(view) == "cancelled", timeout=TIMEOUT)
    wait_tasks(qtbot)
    assert {r["status"] for r in station.home.catalog.query("SELECT status FROM dossiers")} == {"approved"}

    # a second batch, sealed and sent as one .zip
    view.run_dialog = filler(year=2024)
    qtbot.mouseClick(view.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state_of(view, 1) == "draft", timeout=TIMEOUT)
    wait_tasks(qtbot)
    assert view.selected()["batch_id"] == "X001-2024-002"
    view.run_dialog = filler(key="station", passphrase=PASSPHRASE)
    qtbot.mouseClick(view.seal_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state_of(view, 1) == "sealed", timeout=TIMEOUT)
    wait_tasks(qtbot)
    view.run_dialog = filler(destination=str(share), as_zip=True)
    qtbot.mouseClick(view.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state_of(view, 1) == "sent", timeout=TIMEOUT)
    wait_tasks(qtbot)
    package = next(share.glob("*.zip"))

    # the archive room checks the zip, records a finding and returns the package
    intake = intake_view(qtbot, archive.s["archivist1"])
    intake.check(str(package))
    qtbot.waitUntil(lambda: intake.result is not None, timeout=TIMEOUT)
    wait_tasks(qtbot)
    assert intake.result["checks_passed"] and intake.accept_button.isEnabled()
    sampled = intake.result["sample"]["dossiers"][0]
    intake.set_finding(sampled, "页面模糊 / page 2 is blurred")
    assert not intake.accept_button.isEnabled()
    before = archive_counts(archive.home)
    intake.run_dialog = filler(key="archive", passphrase=PASSPHRASE, reasons="图像不清晰\n")
    qtbot.mouseClick(intake.reject_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: intake.decision is not None, timeout=TIMEOUT)
    wait_tasks(qtbot)
    assert intake.decision["decision"] == "rejected" and intake.decision["dossiers_returned"] == [sampled]
    assert archive_counts(archive.home)["dossiers"] == before["dossiers"] == 0
    receipt = next(Path(f) for f in intake.decision["receipt_files"] if f.endswith(".json"))
    envelope = json.loads(receipt.read_text("utf-8"))
    assert "图像不清晰" in envelope["receipt"]["reasons"]
    assert envelope["receipt"]["sample"]["findings"] == {sampled: ["页面模糊 / page 2 is blurred"]}

    # the station imports the rejection: the returned dossier goes back for correction
    view.import_receipt(str(receipt))
    qtbot.waitUntil(lambda: state_of(view, 1) == "rejected", timeout=TIMEOUT)
    wait_tasks(qtbot)
    status = {r["number"]: r["status"] for r in station.home.catalog.query("SELECT number, status FROM dossiers")}
    assert status[sampled] == "qc_rejected"
    assert {s for n, s in status.items() if n != sampled} == {"approved"}
