"""The archive catalog on PostgreSQL: numbered migrations, SQLite-form SQL through the dialect, one
audit chain with concurrent writers, constraint violations as the service layer expects them."""

from __future__ import annotations

import multiprocessing
import sqlite3

import pytest

from scanstation import audit
from scanstation.errors import HomeError
from scanstation.storage.pg_catalog import PgCatalog, redact
from scanstation.storage.sql_dialect import PG_MIGRATIONS, PostgresDialect


def test_dialect_rewrites_the_sqlite_forms_once_and_leaves_literals_alone():
    d = PostgresDialect()
    t = d.translate("INSERT INTO audit_log (id, ts, user) VALUES (:id, :ts, :user)", named=True)
    assert t.sql == 'INSERT INTO audit_log (id, ts, "user") VALUES (%(id)s, %(ts)s, %(user)s) RETURNING id'
    assert (
        d.translate("INSERT OR IGNORE INTO fonds(code, name) VALUES (?, '')").sql
        == "INSERT INTO fonds(code, name) VALUES (%s, '') ON CONFLICT DO NOTHING"
    )
    t = d.translate("INSERT OR REPLACE INTO page_text(page_id, status) VALUES (?, 'queued')")
    assert t.sql.endswith("ON CONFLICT (page_id) DO UPDATE SET status = excluded.status") and not t.returns_id
    # a question mark, a percent sign and the word user inside a literal are data, not syntax
    assert (
        d.translate("SELECT * FROM users WHERE name LIKE 'user?%' AND roles = ?").sql
        == "SELECT * FROM users WHERE name LIKE 'user?%%' AND roles = %s"
    )
    assert "catalog_objects" in d.translate("SELECT name FROM sqlite_master WHERE type = 'table'").sql
    assert "now()" in d.translate("INSERT INTO migrations VALUES (?, ?, datetime('now'))").sql
    with pytest.raises(ValueError):
        d.translate("INSERT OR REPLACE INTO unknown_table(a) VALUES (?)")


def test_migrations_are_numbered_and_apply_once(pg_dsn):
    cat = PgCatalog(pg_dsn)
    try:
        numbers = [n for n, _, _ in cat.dialect.migrations]
        assert numbers == sorted(set(numbers)) and numbers[:4] == [100, 101, 102, 103]
        assert cat.migrate() == numbers
        assert cat.migrate() == []
        assert cat.applied_migrations() == numbers
        assert cat.one("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'received_packages'")
        cat.check_version()
    finally:
        cat.close()


def test_rows_ids_and_refusals_behave_as_on_sqlite(pg_dsn):
    cat = PgCatalog(pg_dsn)
    cat.migrate()
    try:
        with cat.write() as conn:
            conn.execute("INSERT OR IGNORE INTO fonds(code, name) VALUES (?, '')", ("X001",))
            conn.execute("INSERT OR IGNORE INTO fonds(code, name) VALUES (?, '')", ("X001",))
            cur = conn.execute(
                "INSERT INTO users(name, roles, password_hash, created_at) VALUES (?, ?, ?, ?)",
                ("张三", "archivist", "h", "2026-01-01"),
            )
            assert isinstance(cur.lastrowid, int) and cur.lastrowid > 0
        assert cat.one("SELECT count(*) AS n FROM fonds")["n"] == 1
        assert cat.one("SELECT name FROM users WHERE id = ?", (cur.lastrowid,))["name"] == "张三"
        # a constraint refuses: the whole transaction is rolled back, raised as the service layer expects
        with pytest.raises(sqlite3.IntegrityError):
            with cat.write() as conn:
                conn.execute("INSERT INTO fonds(code, name) VALUES (?, '')", ("X002",))
                conn.execute(
                    "INSERT INTO users(name, roles, password_hash, created_at) VALUES (?, ?, ?, ?)",
                    ("张三", "admin", "h", "2026-01-01"),
                )
        assert cat.one("SELECT code FROM fonds WHERE code = 'X002'") is None
        # an exception inside the block rolls back too, and the catalog stays usable
        with pytest.raises(RuntimeError):
            with cat.write() as conn:
                conn.execute("INSERT INTO fonds(code, name) VALUES (?, '')", ("X003",))
                raise RuntimeError("stop")
        assert cat.one("SELECT code FROM fonds WHERE code = 'X003'") is None
    finally:
        cat.close()


def _append_entries(dsn: str, desk: int, n: int) -> None:
    cat = PgCatalog(dsn)
    try:
        for i in range(n):
            with cat.write() as conn:
                audit.append(
                    conn,
                    ts=f"2026-01-01T00:00:{i:02d}",
                    user=f"desk{desk}",
                    station="A01",
                    action="test.append",
                    object_type="desk",
                    object_id=str(desk),
                    after={"i": i},
                )
    finally:
        cat.close()


def test_r36_audit_chain_stays_one_chain_with_four_concurrent_writers(pg_dsn):
    cat = PgCatalog(pg_dsn)
    cat.migrate()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_entries, args=(pg_dsn, desk, 25)) for desk in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    try:
        report = audit.verify(cat.conn)
        assert report.ok, report.reason_en
        assert report.entries == 100
        assert {r["user"] for r in cat.query("SELECT DISTINCT user FROM audit_log")} == {f"desk{i}" for i in range(4)}
        # and a changed entry is found, as on SQLite
        with cat.write() as conn:
            conn.execute("UPDATE audit_log SET after = ? WHERE id = 40", ('{"i":999}',))
        bad = audit.verify(cat.conn)
        assert not bad.ok and bad.broken_id == 40
    finally:
        cat.close()


def test_unreachable_server_is_a_plain_message_without_the_password(tmp_path):
    dsn = f"postgresql://u:secret-pw@/db?host={tmp_path}&port=5999"
    with pytest.raises(HomeError) as exc:
        PgCatalog(dsn, connect_timeout=2)
    text = str(exc.value)
    assert "secret-pw" not in text and "***" in text
    assert redact("host=x password=abc user=y") == "host=x password=*** user=y"


def test_sql_this_backend_lacks_is_a_plain_message_and_changes_nothing(pg_dsn):
    cat = PgCatalog(pg_dsn)
    cat.migrate()
    try:
        with pytest.raises(HomeError) as exc:
            with cat.write() as conn:
                conn.execute("INSERT INTO fonds(code, name) VALUES (?, '')", ("X009",))
                conn.execute("SELECT * FROM search_pages WHERE search_pages MATCH ?", ("养老",))  # SQLite FTS5
        assert "not available on the PostgreSQL archive" in exc.value.en
        assert cat.one("SELECT code FROM fonds WHERE code = 'X009'") is None
        assert cat.one("SELECT 1 AS ok")["ok"] == 1  # still usable
    finally:
        cat.close()


def test_shared_tables_have_every_column_of_the_sqlite_catalog(tmp_path, pg_dsn):
    """The archive's tables on PostgreSQL keep up with the station's migrations (rows equal on both backends)."""
    from scanstation.storage.catalog import Catalog

    lite = Catalog(tmp_path / "c.sqlite")
    lite.migrate()
    pg = PgCatalog(pg_dsn)
    pg.migrate()
    try:
        for table in (
            "fonds",
            "users",
            "settings",
            "dossiers",
            "pages",
            "page_text",
            "audit_log",
            "received_packages",
            "received_dossiers",
            "search_page_state",
            "search_dossier_state",
        ):
            sqlite_cols = {r[1] for r in lite.conn.execute(f"PRAGMA table_info({table})")}
            pg_cols = {
                r["column_name"]
                for r in pg.query("SELECT column_name FROM information_schema.columns WHERE table_name = ?", (table,))
            }
            assert sqlite_cols <= pg_cols, (table, sorted(sqlite_cols - pg_cols))
    finally:
        lite.close()
        pg.close()


def test_every_listing_shape_is_read_in_number_order_from_an_index(pg_dsn):
    """As on the station's catalog (tests/test_dossier_list.py): no listing shape sorts its match set or
    walks rows it then filters out: the planner reads each shape from an index with the shape's columns
    before 档号 (no Sort node, no Filter on 年度 or status)."""
    cat = PgCatalog(pg_dsn)
    try:
        cat.migrate()
        # rows whose 年度 and status are selective, so that walking the 档号 index and filtering is priced
        # as what it is at scale (the bench's 2 M dossiers) and the planner's choice shows the indexes
        with cat.write() as conn:
            conn.execute("INSERT INTO fonds(code, name) VALUES ('X001', '') ON CONFLICT DO NOTHING")
            conn.execute(
                "INSERT INTO dossiers(number, fonds_code, year, retention, status, created_at, updated_at) "
                "SELECT 'X001-' || lpad(g::text, 7, '0'), 'X001', 1000 + g % 1000, '30年', "
                "CASE WHEN g % 997 = 0 THEN 'archived' ELSE 'cataloged' END, '', '' "
                "FROM generate_series(1, 50000) AS g"
            )
        with cat.write() as conn:
            conn.execute("ANALYZE dossiers")
        where = {
            "none": "fonds_code = 'X001'",
            "year": "fonds_code = 'X001' AND year = 1500",
            "status": "fonds_code = 'X001' AND status = 'archived'",
            "year+status": "fonds_code = 'X001' AND year = 1500 AND status = 'archived'",
        }
        for shape, condition in where.items():
            with cat.write() as conn:
                plan = "\n".join(
                    r[0]
                    for r in conn.execute(
                        f"EXPLAIN SELECT number FROM dossiers WHERE {condition} AND number > 'X001-0025000' "
                        "ORDER BY number LIMIT 51"
                    ).fetchall()
                )
            filtered = [
                line for line in plan.splitlines() if "Filter:" in line and ("year" in line or "status" in line)
            ]
            assert "Sort" not in plan and not filtered and "Index Cond" in plan, (shape, plan)
    finally:
        cat.close()


def test_a_desk_that_starts_during_another_desks_upgrade_says_it_waits_then_opens(pg_dsn, monkeypatch):
    import threading

    import psycopg

    from scanstation.storage.sql_dialect import MIGRATION_LOCK

    PgCatalog(pg_dsn).migrate()
    upgrading = psycopg.connect(pg_dsn, autocommit=True)  # the desk that is upgrading holds the lock
    upgrading.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    said = threading.Event()
    try:
        # a database that lacks nothing is not locked: the desk opens at once, says nothing
        cat = PgCatalog(pg_dsn)
        assert cat.migrate(on_wait=said.set) == [] and not said.is_set()
        cat.close()
        # a newer program (one migration more) has to wait for the lock, and says so first
        number = max(n for n, _, _ in PG_MIGRATIONS) + 1
        monkeypatch.setattr(
            PostgresDialect, "migrations", [*PG_MIGRATIONS, (number, "probe", "CREATE TABLE probe (x INT)")]
        )
        cat = PgCatalog(pg_dsn)
        result: list = []
        desk = threading.Thread(target=lambda: result.append(cat.migrate(on_wait=said.set)))
        desk.start()
        assert said.wait(20)
        desk.join(0.5)
        assert desk.is_alive() and result == []  # still waiting: nothing applied beside the other desk
        upgrading.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        desk.join(20)
        assert result == [[number]] and cat.applied_migrations()[-1] == number
        cat.close()
        # a desk that waited while the other desk applied everything applies nothing again
        said.clear()
        number2 = number + 1
        monkeypatch.setattr(
            PostgresDialect,
            "migrations",
            [
                *PG_MIGRATIONS,
                (number, "probe", "CREATE TABLE probe (x INT)"),
                (number2, "probe2", "CREATE TABLE probe2 (x INT)"),
            ],
        )
        with upgrading.transaction():
            upgrading.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            late = PgCatalog(pg_dsn)
            result.clear()
            desk = threading.Thread(target=lambda: result.append(late.migrate(on_wait=said.set)))
            desk.start()
            assert said.wait(20)
            upgrading.execute("CREATE TABLE probe2 (x INT)")
            upgrading.execute("INSERT INTO migrations VALUES (%s, 'probe2', now()::text)", (number2,))
        desk.join(20)
        assert result == [[]] and late.applied_migrations()[-1] == number2
        late.close()
    finally:
        upgrading.close()
