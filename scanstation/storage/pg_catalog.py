"""The archive catalog on PostgreSQL, with the interface of the SQLite ``Catalog``.

Why the same interface: the archive room's domain code (receive, verify, receipts, the service
layer's audited ``change()``) already speaks to ``Catalog`` through ``write()``, ``query()``,
``one()`` and ``conn.execute`` with SQLite-form SQL. Giving PostgreSQL that interface, with the
statement rewriting in one place (``sql_dialect``), lets that code run unchanged on either backend:
nothing above the storage layer knows which one it is.

- Connections come from a psycopg 3 ``ConnectionPool``; this catalog holds one for its reads and
  write transactions, and ``claim()`` takes a second one for the session advisory lock of a package.
- ``write()`` is one transaction (re-entrant like the SQLite one). It takes no global lock: rows are
  guarded by their constraints, and the audit chain's head is serialised by a transaction-level
  advisory lock that ``lock_audit_chain()`` takes before an entry is appended, so concurrent writers
  still make one chain.
- A constraint violation is raised as ``sqlite3.IntegrityError`` (the contract the service layer
  already handles); a lost connection as a ``StorageError`` saying nothing was committed.
- The DSN carries no password: libpq reads ``PGPASSWORD`` or the 0600 ``PGPASSFILE`` (see
  ``scanstation.storage.archive_backend``), so credentials never reach the audit, logs or errors.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC

import psycopg
from psycopg_pool import ConnectionPool

from scanstation.errors import HomeError, StorageError
from scanstation.storage.sql_dialect import (
    AUDIT_CHAIN_LOCK,
    MIGRATION_LOCK,
    STORE_REMOVAL_LOCK,
    PostgresDialect,
    lock_key,
)

log = logging.getLogger(__name__)
# the pool's reconnect chatter would reach the desk's terminal; our own errors say what happened
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)


def redact(dsn: str) -> str:
    """A DSN for messages: never a password."""
    import re

    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", re.sub(r"password=\S+", "password=***", dsn))


class _Cursor:
    """What the domain code uses of a sqlite3 cursor."""

    def __init__(self, cur: psycopg.Cursor, returns_id: bool):
        self._cur = cur
        self.lastrowid = None
        self._first = None
        if returns_id:
            row = cur.fetchone()
            self.lastrowid = row[0] if row else None

    @property
    def description(self):
        return self._cur.description

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount

    def fetchone(self):
        return self._cur.fetchone() if self._cur.description else None

    def fetchall(self):
        return self._cur.fetchall() if self._cur.description else []

    def fetchmany(self, size: int):
        return self._cur.fetchmany(size) if self._cur.description else []

    def __iter__(self):
        return iter(self.fetchall())


class PgConnection:
    """``conn.execute(sql, params)`` in SQLite form, run on PostgreSQL."""

    backend = "postgresql"

    def __init__(self, catalog: PgCatalog):
        self._catalog = catalog

    def execute(self, sql: str, params=()):
        named = isinstance(params, dict)
        t = self._catalog.dialect.translate(sql, named)
        conn = self._catalog._conn()
        try:
            cur = conn.cursor()
            cur.execute(t.sql, params if named else tuple(params or ()))
            return _Cursor(cur, t.returns_id)
        except psycopg.IntegrityError as exc:
            raise sqlite3.IntegrityError(str(exc).splitlines()[0]) from exc
        except psycopg.OperationalError as exc:
            self._catalog._lost(exc)
            raise
        except (psycopg.ProgrammingError, psycopg.errors.FeatureNotSupported) as exc:
            # SQL this backend does not have (FTS5 search, SQLite triggers, …): a plain message, not a traceback
            raise HomeError(
                "This operation is not available on the PostgreSQL archive yet ({error}); nothing was changed.",
                "PostgreSQL 档案库暂不支持此操作（{error}）；未做任何修改。",
                error=(getattr(exc, "sqlstate", "") or type(exc).__name__),
            ) from exc

    def executemany(self, sql: str, rows) -> None:
        for row in rows:
            self.execute(sql, row)

    def lock_audit_chain(self) -> None:
        """Serialise appends to the audit chain until this transaction ends (see scanstation.audit)."""
        self._catalog._conn().execute(PostgresDialect.LOCK_AUDIT_CHAIN, (AUDIT_CHAIN_LOCK,))

    def lock_store_removals(self, shared: bool) -> None:
        """Until this transaction ends: shared while a desk commits rows naming store objects, exclusive
        while objects are removed from the store (see scanstation.storage.page_files)."""
        sql = PostgresDialect.LOCK_SHARED if shared else PostgresDialect.LOCK_EXCLUSIVE
        self._catalog._conn().execute(sql, (STORE_REMOVAL_LOCK,))


class PgCatalog:
    """An open archive catalog on PostgreSQL. ``write()`` is the one way to change it."""

    backend = "postgresql"

    def __init__(self, dsn: str, pool_size: int = 4, connect_timeout: float = 10):
        self.dsn = dsn
        self.path = None
        self.dialect = PostgresDialect()
        pool = None
        try:
            psycopg.connect(dsn, connect_timeout=int(connect_timeout)).close()  # say at once when it is not there
            pool = ConnectionPool(
                dsn,
                min_size=1,
                max_size=max(2, pool_size),
                open=True,
                timeout=connect_timeout,
                kwargs={"autocommit": True, "connect_timeout": int(connect_timeout)},
            )
            pool.wait(timeout=connect_timeout)
        except Exception as exc:
            if pool is not None:
                with contextlib.suppress(Exception):
                    pool.close()
            raise HomeError(
                "Cannot reach the archive database {db} ({error}). Check that the server runs and the "
                "credentials (PGPASSWORD or the password file); nothing was changed.",
                "无法连接档案数据库 {db}（{error}）。请检查数据库服务是否运行以及凭据（PGPASSWORD 或口令文件）；"
                "未做任何修改。",
                db=redact(dsn),
                error=type(exc).__name__,
            ) from exc
        self.pool: ConnectionPool = pool
        self._held: psycopg.Connection | None = None
        self._claims: dict[str, psycopg.Connection] = {}
        self._lock = threading.RLock()
        self._depth = 0
        self.conn = PgConnection(self)

    # -- connections ---------------------------------------------------------------------------------
    def _conn(self) -> psycopg.Connection:
        if self._held is None or self._held.closed or self._held.broken:
            if self._held is not None:
                with contextlib.suppress(Exception):
                    self.pool.putconn(self._held)
            try:
                self._held = self.pool.getconn()
            except Exception as exc:
                raise self._unavailable(exc) from exc
        return self._held

    def _unavailable(self, exc) -> StorageError:
        return StorageError(
            "The archive database is not reachable ({error}); nothing was committed. When the server is "
            "back, do it again: what was not committed is started over.",
            "档案数据库无法访问（{error}）；未提交任何内容。数据库恢复后请重新操作：未提交的部分会重新开始。",
            error=type(exc).__name__,
        )

    def _lost(self, exc) -> None:
        if self._held is not None and (self._held.closed or self._held.broken):
            with contextlib.suppress(Exception):
                self.pool.putconn(self._held)
            self._held = None
            raise self._unavailable(exc) from exc

    @property
    def db(self):
        raise HomeError(
            "This operation is not available on the PostgreSQL archive yet; nothing was changed.",
            "PostgreSQL 档案库暂不支持此操作；未做任何修改。",
        )

    # -- schema ----------------------------------------------------------------------------------------
    def applied_migrations(self) -> list[int]:
        row = self.one("SELECT to_regclass('migrations') IS NOT NULL AS present")
        if not row or not row["present"]:
            return []
        return [r["number"] for r in self.query("SELECT number FROM migrations ORDER BY number")]

    def pending_migrations(self) -> list[int]:
        done = set(self.applied_migrations())
        return [number for number, _, _ in self.dialect.migrations if number not in done]

    def migrate(self, on_wait: Callable[[], None] | None = None) -> list[int]:
        """Apply the migrations this database lacks. One desk applies them; a desk that starts
        meanwhile waits for it (after ``on_wait()``, so that it can say so: on a large archive an
        upgrade takes long). A database that lacks none is not locked at all."""
        if not self.pending_migrations():
            return []
        applied = []
        with self.write() as conn:
            got = self._conn().execute(PostgresDialect.TRY_LOCK_MIGRATIONS, (MIGRATION_LOCK,)).fetchone()
            if not (got and got[0]):
                log.info("another desk is applying the archive database's migrations; waiting")
                if on_wait is not None:
                    on_wait()
                self._conn().execute(PostgresDialect.LOCK_MIGRATIONS, (MIGRATION_LOCK,))
            self._conn().execute(PostgresDialect.MIGRATIONS_TABLE)
            done = set(self.applied_migrations())
            for number, name, sql in self.dialect.migrations:
                if number in done:
                    continue
                self._conn().execute(sql)
                conn.execute("INSERT INTO migrations VALUES (?, ?, datetime('now'))", (number, name))
                applied.append(number)
        return applied

    def check_version(self) -> None:
        known = max(n for n, _, _ in self.dialect.migrations)
        newest = max(self.applied_migrations(), default=0)
        if newest > known:
            raise HomeError(
                "This archive database was written by a newer ScanStation (schema {found}, this program knows {known}). "
                "Install the newer version; nothing was changed.",
                "此档案数据库由更新版本的 ScanStation 创建（结构版本 {found}，本程序支持到 {known}）。请安装新版本；未做任何修改。",
                found=newest,
                known=known,
            )

    # -- transactions ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def write(self):
        """One write transaction (re-entrant: inner blocks join the outer one)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            conn = self._conn()
            try:
                tx = conn.transaction()
                tx.__enter__()
            except psycopg.OperationalError as exc:
                self._lost(exc)
                raise
            self._depth = 1
            try:
                yield self.conn
            except BaseException as exc:
                self._depth = 0
                with contextlib.suppress(psycopg.Error):
                    tx.__exit__(type(exc), exc, exc.__traceback__)
                raise
            else:
                self._depth = 0
                lost = self._lost_claim()
                if lost is not None:
                    with contextlib.suppress(psycopg.Error):
                        tx.__exit__(type(lost), lost, None)
                    raise lost
                try:
                    tx.__exit__(None, None, None)
                except psycopg.IntegrityError as exc:
                    raise sqlite3.IntegrityError(str(exc).splitlines()[0]) from exc
                except psycopg.OperationalError as exc:
                    self._lost(exc)
                    raise

    def _lost_claim(self) -> StorageError | None:
        """A claim lives in its connection's session: if that ended (server restarted), another desk may have
        taken the package since, so nothing may be committed under it."""
        for digest, holder in list(self._claims.items()):
            try:
                holder.execute("SELECT 1")
            except psycopg.Error:
                return StorageError(
                    "The connection that held package {d}… for this desk was lost (the database restarted?); "
                    "nothing was committed. Receive it again: what was stored is taken up.",
                    "为本工作台锁定移交包 {d}… 的数据库连接已中断（数据库重启？）；未提交任何内容。"
                    "请重新接收：已存储的内容会被继续使用。",
                    d=digest[:16],
                )
        return None

    def query(self, sql: str, params=()) -> list[dict]:
        for attempt in (1, 2):
            try:
                cur = self.conn.execute(sql, params)
                break
            except StorageError:
                if attempt == 2 or self._depth:  # inside a transaction nothing may be retried
                    raise
        if not cur.description:
            return []
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def one(self, sql: str, params=()) -> dict | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    # -- several desks -----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def claim(self, digest: str, *, desk: str, station: str, user: str):
        """Hold the package ``digest`` for this desk while the block runs, or say who holds it.

        The claim is a session advisory lock on a connection of its own: PostgreSQL releases it when
        the block ends or the desk's connection ends (process killed, server restarted).
        """
        key = lock_key("scanstation:package:" + digest)
        try:
            holder = self.pool.getconn()
        except Exception as exc:
            raise self._unavailable(exc) from exc
        try:
            claimed = holder.execute(PostgresDialect.TRY_CLAIM, (key,)).fetchone()
            got = bool(claimed and claimed[0])
            if not got:
                row = holder.execute(
                    "SELECT desk, station, user_name, claimed_at FROM package_claims WHERE digest = %s", (digest,)
                ).fetchone()
                from scanstation.errors import Busy

                raise Busy(
                    "This package is being received at desk {desk} by {user} (since {since}). Wait until that "
                    "desk has finished; nothing was changed.",
                    "该移交包正在由 {user} 在 {desk} 接收（自 {since} 起）。请等待其完成；未做任何修改。",
                    desk=(row[0] if row else "?"),
                    user=(row[2] if row else "?"),
                    since=(row[3] if row else "?"),
                )
            from datetime import datetime

            now_iso = lambda: datetime.now(UTC).astimezone().isoformat(timespec="seconds")  # noqa: E731
            holder.execute(
                "INSERT INTO package_claims(digest, desk, station, user_name, pid, claimed_at) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (digest) DO UPDATE SET desk = excluded.desk, "
                "station = excluded.station, user_name = excluded.user_name, pid = excluded.pid, "
                "claimed_at = excluded.claimed_at",
                (digest, desk, station, user, os.getpid(), now_iso()),
            )
            self._claims[digest] = holder
            try:
                yield
            finally:
                self._claims.pop(digest, None)
                with contextlib.suppress(psycopg.Error):
                    holder.execute("DELETE FROM package_claims WHERE digest = %s AND pid = %s", (digest, os.getpid()))
                    holder.execute(PostgresDialect.RELEASE_CLAIM, (key,))
        except psycopg.OperationalError as exc:
            raise self._unavailable(exc) from exc
        finally:
            with contextlib.suppress(Exception):
                self.pool.putconn(holder)

    def close(self) -> None:
        if self._held is not None:
            with contextlib.suppress(Exception):
                self.pool.putconn(self._held)
            self._held = None
        with contextlib.suppress(Exception):
            self.pool.close()


__all__ = ["PgCatalog", "redact"]
