"""Transfer batches (R27): one 全宗 and one 年度, approved dossiers only, sequential numbers, deadline, locking."""

from __future__ import annotations

import pytest

from scanstation import audit, pages, qc, settings
from scanstation.capture import Capture
from scanstation.errors import Refused
from scanstation.transfer import batches
from tests.test_transfer_fixtures import NUMBERS, add_dossier, make_station


@pytest.fixture
def station(tmp_path):
    s = make_station(tmp_path / "station")
    yield s
    s.close()


def _status(home, number):
    return home.catalog.one("SELECT status, batch_id FROM dossiers WHERE number = ?", (number,))


def test_r27_batch_holds_one_fonds_one_year_numbered_in_sequence_with_deadline(station):
    home = station.home
    add_dossier(home, "X001-ZY·DJ·2023·D100-0001-001", 1, year=2023, seed=7)
    add_dossier(home, "X001-ZY·DJ·2024·D100-0003-001", 1, status="completed", seed=8)  # not QC-approved
    first = batches.create(station.s["clerk1"], 2024)
    assert first["batch_id"] == "X001-2024-001" and first["seq"] == 1
    assert first["deadline"] == "2025-03-31"  # 31 March of the next year (R27)
    assert first["dossiers"] == 3 and first["state"] == "draft"
    shown = batches.show(station.s["clerk1"], first["batch_id"])
    assert [d["number"] for d in shown["dossier_list"]] == sorted(NUMBERS)
    assert _status(home, "X001-ZY·DJ·2024·D100-0003-001")["status"] == "completed"
    assert _status(home, "X001-ZY·DJ·2023·D100-0001-001")["status"] == "approved"  # other year stays out

    add_dossier(home, "X001-ZY·DJ·2024·D100-0004-001", 1, seed=9)
    settings.set_value(station.s["admin"], "transfer.deadline", "04-15")
    second = batches.create(station.s["clerk1"], 2024)
    assert second["batch_id"] == "X001-2024-002" and second["deadline"] == "2025-04-15" and second["dossiers"] == 1
    other_year = batches.create(station.s["clerk1"], 2023)
    assert other_year["batch_id"] == "X001-2023-001" and other_year["dossiers"] == 1
    with pytest.raises(Refused):  # nothing approved is left for 2024
        batches.create(station.s["clerk1"], 2024)
    assert audit.verify(home.catalog.conn).ok
    assert home.catalog.one("SELECT count(*) n FROM audit_log WHERE action = 'dossier.batched'")["n"] == 5


def test_r27_named_dossiers_must_be_approved_and_of_the_year(station):
    home = station.home
    add_dossier(home, "X001-ZY·DJ·2024·D100-0003-001", 1, status="completed", seed=8)
    add_dossier(home, "X001-ZY·DJ·2023·D100-0001-001", 1, year=2023, seed=7)
    with pytest.raises(Refused) as info:
        batches.create(
            station.s["clerk1"],
            2024,
            numbers=[NUMBERS[0], "X001-ZY·DJ·2024·D100-0003-001", "X001-ZY·DJ·2023·D100-0001-001"],
        )
    assert "X001-ZY·DJ·2024·D100-0003-001" in info.value.en and "X001-ZY·DJ·2023·D100-0001-001" in info.value.en
    assert home.catalog.one("SELECT count(*) n FROM batches")["n"] == 0  # all or nothing
    one = batches.create(station.s["clerk1"], 2024, numbers=[NUMBERS[1]])
    assert one["dossiers"] == 1 and _status(home, NUMBERS[1])["status"] == "batched"
    assert _status(home, NUMBERS[0])["status"] == "approved"


def test_r27_batched_dossiers_are_locked_against_edits(station):
    batches.create(station.s["clerk1"], 2024)
    with pytest.raises(Refused):
        Capture(station.s["clerk2"]).check_dossier(NUMBERS[0])
    with pytest.raises(Refused):
        pages.delete(station.s["clerk2"], NUMBERS[0], 1)
    with pytest.raises(Refused):
        qc.reject(station.s["qc1"], NUMBERS[0], ["other"])


def test_batch_roles_and_cancel(station):
    with pytest.raises(Refused):
        batches.create(station.s["qc1"], 2024)  # QC may not make batches
    b = batches.create(station.s["clerk1"], 2024)
    cancelled = batches.cancel(station.s["clerk1"], b["batch_id"])
    assert cancelled["state"] == "cancelled"
    assert all(_status(station.home, n) == {"status": "approved", "batch_id": None} for n in NUMBERS)
    again = batches.create(station.s["clerk1"], 2024)
    assert again["batch_id"] == "X001-2024-002"  # a number is never reused
    assert len(batches.list_batches(station.s["clerk1"])) == 2
    with pytest.raises(Refused):
        batches.cancel(station.s["clerk1"], b["batch_id"])  # already cancelled
