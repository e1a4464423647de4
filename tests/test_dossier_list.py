"""Dossier lists: every filter shape is served in 档号 order by an index, and paging by key gives the same
rows as walking the whole list."""

from __future__ import annotations

import json

import pytest

from scanstation.cli.main import main
from scanstation.dossier_list import list_dossiers, query_plan
from scanstation.errors import InvalidInput
from scanstation.home import now_iso

STATUSES = ["cataloged", "scanning", "completed", "approved"]


def _fill(home, n=230):
    with home.catalog.write() as conn:
        conn.executemany(
            "INSERT INTO dossiers(number, fonds_code, year, retention, title, declared_pages, status, created_at,"
            " updated_at) VALUES (?, 'X001', ?, 'D30', ?, 3, ?, ?, ?)",
            [
                (
                    f"X001-ZY·DJ·{2020 + i % 3}·D30-{i:04d}-001",
                    2020 + i % 3,
                    f"题名{i}",
                    STATUSES[i % 4],
                    now_iso(),
                    now_iso(),
                )
                for i in range(n)
            ],
        )


@pytest.mark.parametrize("year,status", [(None, None), (2021, None), (None, "approved"), (2022, "scanning")])
def test_every_shape_uses_an_index_in_number_order(home, year, status):
    _fill(home)
    plan = query_plan(home.catalog, "X001", year=year, status=status)
    assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
    assert "TEMP B-TREE" not in plan, plan
    # the filter is a constraint of the index, not a check of every row walked
    for column, value in (("year", year), ("status", status)):
        if value is not None:
            assert f"{column}=?" in plan, plan


@pytest.mark.parametrize("year,status", [(None, None), (2021, None), (None, "approved"), (2022, "scanning")])
def test_paging_by_key_equals_the_whole_list(home, year, status):
    _fill(home)
    expected = [r["number"] for r in list_dossiers(home.catalog, "X001", year=year, status=status, limit=1000).rows]
    assert expected == sorted(expected) and expected
    seen, after = [], None
    while True:
        page = list_dossiers(home.catalog, "X001", year=year, status=status, after=after, limit=7)
        seen += [r["number"] for r in page.rows]
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == expected


def test_bad_limit_and_unknown_status_are_plain_errors(home):
    with pytest.raises(InvalidInput):
        list_dossiers(home.catalog, "X001", limit=0)
    with pytest.raises(InvalidInput):
        list_dossiers(home.catalog, "X001", status="nosuch")


def test_cli_catalog_list_pages_with_after(cli_env, capsys, monkeypatch):
    assert main(["init", "--fonds", "X001", "--station", "S01", "--admin", "admin"]) == 0
    monkeypatch.setenv("SCANSTATION_USER", "admin")
    from scanstation.home import Home

    home = Home.open(cli_env)
    try:
        _fill(home, 12)
    finally:
        home.close()
    capsys.readouterr()
    assert main(["--json", "catalog", "list", "--limit", "5"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["--json", "catalog", "list", "--limit", "5", "--after", first[-1]["number"]]) == 0
    second = json.loads(capsys.readouterr().out)
    assert len(first) == len(second) == 5 and second[0]["number"] > first[-1]["number"]
    assert main(["catalog", "list", "--limit", "5"]) == 0
    assert "--after" in capsys.readouterr().out
