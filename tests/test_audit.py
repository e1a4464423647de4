import sqlite3
import subprocess

from scanstation import audit


def _changes(sessions, n=5):
    for i in range(n):
        sessions["admin"].log("test.event", "thing", f"T{i}", {"i": i, "文字": "档案"})


def test_r36_chain_intact_after_changes(home, sessions):
    _changes(sessions)
    report = audit.verify(home.catalog.conn)
    assert report.ok and report.entries == 5
    row = home.catalog.one("SELECT * FROM audit_log WHERE id = 3")
    assert row["user"] == "admin" and row["station"] == "S01" and row["ts"][:2] == "20"
    assert row["prev_hash"] == home.catalog.one("SELECT hash FROM audit_log WHERE id = 2")["hash"]


def test_r36_edit_with_plain_sqlite3_is_found(home, sessions):
    _changes(sessions)
    path = home.catalog.path
    home.catalog.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    # an outsider edits the audit table with the sqlite3 program, not through the station
    subprocess.run(["sqlite3", str(path), "UPDATE audit_log SET user = 'mallory' WHERE id = 3"], check=True)
    report = audit.verify(home.catalog.conn)
    assert not report.ok and report.broken_id == 3


def test_r36_deleted_entry_is_found(home, sessions):
    _changes(sessions)
    conn = sqlite3.connect(home.catalog.path)
    conn.execute("DELETE FROM audit_log WHERE id = 2")
    conn.commit()
    conn.close()
    report = audit.verify(home.catalog.conn)
    assert not report.ok and report.broken_id == 2


def test_r36_rewritten_hash_breaks_next_link(home, sessions):
    _changes(sessions)
    conn = sqlite3.connect(home.catalog.path)
    conn.execute("UPDATE audit_log SET after = '{}', hash = 'f' || substr(hash, 2) WHERE id = 2")
    conn.commit()
    conn.close()
    assert audit.verify(home.catalog.conn).broken_id == 2


def test_r36_change_and_entry_are_one_transaction(home, sessions):
    clerk = sessions["clerk1"]
    try:
        with clerk.change(None, "test.fail", "thing", "X") as ch:
            ch.conn.execute("UPDATE fonds SET name = 'changed'")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert home.catalog.one("SELECT name FROM fonds")["name"] == ""
    assert home.catalog.one("SELECT count(*) n FROM audit_log")["n"] == 0
