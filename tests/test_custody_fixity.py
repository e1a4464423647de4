import json
import random

import pytest

from scanstation.custody import fixity
from scanstation.errors import InvalidInput, Refused
from tests.test_custody_fixtures import add_dossier, number_for, page_files


def _fill(home):
    for i in range(1, 4):
        add_dossier(home, number_for(2022, "D30", i), year=2022, retention="D30", pages=4)


def test_r22_fixity_all_match(home, sessions):
    _fill(home)
    result = fixity.check(sessions["auditor1"])
    assert result.ok and result.checked == 12 and result.pages_total == 12 and result.bytes > 0
    run = fixity.last_run(home.catalog)
    assert run["ok"] == 1 and run["checked"] == 12 and run["user"] == "auditor1"
    entry = home.catalog.one("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1")
    assert entry["action"] == "fixity.check" and json.loads(entry["after"])["ok"] is True


def test_r22_fixity_finds_deleted_image(home, sessions):
    _fill(home)
    victim = page_files(home, number_for(2022, "D30", 2))[1]
    victim.unlink()
    result = fixity.check(sessions["admin"])
    assert not result.ok and result.mismatched == []
    assert [(m["number"], m["seq"]) for m in result.missing] == [(number_for(2022, "D30", 2), 2)]
    entry = json.loads(home.catalog.one("SELECT after FROM audit_log ORDER BY id DESC LIMIT 1")["after"])
    assert entry["ok"] is False and entry["missing"] == [f"{number_for(2022, 'D30', 2)}#2"]


def test_r22_fixity_finds_flipped_byte(home, sessions):
    _fill(home)
    victim = page_files(home, number_for(2022, "D30", 3))[3]
    data = bytearray(victim.read_bytes())
    data[100] ^= 0x80  # same size, one bit different
    victim.write_bytes(bytes(data))
    result = fixity.check(sessions["admin"])
    assert not result.ok and result.missing == []
    assert len(result.mismatched) == 1
    bad = result.mismatched[0]
    assert (bad["number"], bad["seq"]) == (number_for(2022, "D30", 3), 4)
    assert bad["found_sha256"] != bad["expected_sha256"] and bad["found_sm3"] != bad["expected_sm3"]
    assert fixity.last_run(home.catalog)["mismatched"] == 1


def test_fixity_sample_is_reproducible(home, sessions):
    _fill(home)
    first = fixity.check(sessions["admin"], sample_percent=25, seed=42)
    assert first.checked == 3 and first.seed == 42 and first.pages_total == 12
    # the same seed samples the same pages: break exactly one sampled page and see it found
    rows = home.catalog.query(
        "SELECT p.id, d.number, p.seq, p.file_name FROM pages p JOIN dossiers d ON d.id = p.dossier_id ORDER BY p.id"
    )
    sampled = sorted(random.Random(42).sample(rows, 3), key=lambda r: r["id"])
    (home.path / "images" / sampled[0]["number"] / sampled[0]["file_name"]).unlink()
    again = fixity.check(sessions["admin"], sample_percent=25, seed=42)
    assert [(m["number"], m["seq"]) for m in again.missing] == [(sampled[0]["number"], sampled[0]["seq"])]
    unseeded = fixity.check(sessions["admin"], sample_percent=50)
    assert unseeded.seed is not None and fixity.last_run(home.catalog)["seed"] == unseeded.seed


def test_fixity_rules(home, sessions):
    _fill(home)
    with pytest.raises(Refused):
        fixity.check(sessions["clerk1"])
    with pytest.raises(InvalidInput):
        fixity.check(sessions["admin"], sample_percent=0)
