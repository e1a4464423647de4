import io
from datetime import datetime, timedelta

import numpy as np
import pytest
from PIL import Image

from scanstation.custody import lending
from scanstation.errors import InvalidInput, Refused
from tests.test_custody_fixtures import add_dossier, number_for, page_files


def _loan(home, sessions, days=7):
    row = add_dossier(home, number_for(2018, "D30", 1), year=2018, retention="D30", pages=2)
    loan = lending.request(sessions["clerk1"], row["number"], "核对待遇领取资格", days)
    return row, loan


def test_lending_approval_not_by_requester(home, sessions):
    row = add_dossier(home, number_for(2018, "D30", 1), year=2018, retention="D30")
    own = lending.request(sessions["archivist1"], row["number"], "整理编研", 3)
    with pytest.raises(Refused):
        lending.approve(sessions["archivist1"], own["id"])
    with pytest.raises(Refused):
        lending.approve(sessions["clerk2"], own["id"])  # clerks do not approve loans
    assert lending.approve(sessions["admin"], own["id"])["state"] == "approved"
    with pytest.raises(InvalidInput):
        lending.request(sessions["clerk1"], row["number"], "查阅", 0)
    with pytest.raises(InvalidInput):
        lending.request(sessions["clerk1"], row["number"], "", 3)


def test_lending_export_watermarked(home, sessions, tmp_path):
    row, loan = _loan(home, sessions)
    with pytest.raises(Refused):  # not approved yet
        lending.export(sessions["clerk1"], loan["id"], tmp_path / "out")
    lending.approve(sessions["archivist1"], loan["id"])
    with pytest.raises(Refused):  # only the borrower exports
        lending.export(sessions["clerk2"], loan["id"], tmp_path / "out")
    result = lending.export(sessions["clerk1"], loan["id"], tmp_path / "out")
    assert result["pages"] == 2
    originals = page_files(home, row["number"])
    for original, name in zip(originals, result["files"]):
        exported = tmp_path / "out" / row["number"] / name
        with Image.open(original) as a, Image.open(exported) as b:
            assert a.size == b.size
            page = np.asarray(a.convert("RGB"), dtype=np.int16)
            diff = np.abs(page - np.asarray(b.convert("RGB"), dtype=np.int16))
            plain = io.BytesIO()
            a.convert("RGB").save(plain, "JPEG", quality=88)  # the same re-encoding without a watermark
            plain_diff = np.abs(page - np.asarray(Image.open(plain).convert("RGB"), dtype=np.int16))
        height = diff.shape[0]
        banner = diff[int(height * 0.9) :, :, :]
        body = diff[: int(height * 0.8), :, :]
        assert banner.mean() > 20  # the bottom banner with user and time is clearly there
        marked = (body.max(axis=2) > 40).mean()
        assert marked > 0.003 and marked > 5 * (plain_diff[: int(height * 0.8)].max(axis=2) > 40).mean()
    entry = home.catalog.one("SELECT * FROM audit_log WHERE action = 'lend.export'")
    assert "clerk1" in entry["after"] and entry["user"] == "clerk1"
    assert home.catalog.one("SELECT exports FROM loans WHERE id = ?", (loan["id"],))["exports"] == 1


def test_lending_export_refused_after_expiry(home, sessions, tmp_path):
    row, loan = _loan(home, sessions, days=2)
    start = datetime.now().astimezone() - timedelta(days=3)
    lending.approve(sessions["archivist1"], loan["id"], now=start)
    with pytest.raises(Refused):
        lending.export(sessions["clerk1"], loan["id"], tmp_path / "late")
    assert not (tmp_path / "late").exists()
    assert lending.get_loan(home.catalog, loan["id"])["state"] == "expired"
    assert home.catalog.one("SELECT count(*) AS n FROM audit_log WHERE action = 'lend.expire'")["n"] == 1
    overdue = lending.list_loans(sessions["archivist1"], overdue=True)
    assert [l["id"] for l in overdue] == [loan["id"]]
    lending.return_loan(sessions["archivist1"], loan["id"])
    assert lending.list_loans(sessions["archivist1"], overdue=True) == []
    with pytest.raises(Refused):
        lending.return_loan(sessions["clerk1"], loan["id"])


def test_lending_list_own_only(home, sessions):
    _row, loan = _loan(home, sessions)
    assert [l["id"] for l in lending.list_loans(sessions["clerk1"])] == [loan["id"]]
    assert lending.list_loans(sessions["clerk2"]) == []
    assert [l["id"] for l in lending.list_loans(sessions["archivist1"])] == [loan["id"]]
