"""Backups whichever backend the home uses (R39): what the command line and the window call.

A station home, or an archive home on SQLite, is backed up by ``scanstation.custody.backup`` (the
catalog by SQLite's online backup API, every file of the home). An archive on PostgreSQL and a page
store is backed up by ``scanstation.custody.pg_backup`` (``pg_dump`` + the store's objects). Both
write generations of the same shape, so listing and verifying them is the same; restoring a
PostgreSQL generation needs the new database and store (``db``, ``store``, ``endpoint``, ``credentials``).
"""

from __future__ import annotations

from pathlib import Path

from scanstation.custody import backup, pg_backup


def _on_server(session) -> bool:
    return session.home.info.backend != "sqlite"


def create(session, dest: Path, rehash: bool = False) -> backup.BackupResult:
    if _on_server(session):
        return pg_backup.create(session, dest, rehash=rehash)
    return backup.create(session, dest, rehash=rehash)


def verify(session, dest: Path, generation: str | None = None) -> backup.VerifyResult:
    if _on_server(session) or any(
        pg_backup.is_pg_generation(backup.load_manifest(g)) for g in backup.generations(Path(dest))
    ):
        return pg_backup.verify(session, dest, generation)
    return backup.verify(session, dest, generation)


def restore(dest: Path, target: Path, user_name: str, password: str, generation: str | None = None, **server) -> dict:
    gen = backup.pick_generation(Path(dest), generation)
    if pg_backup.is_pg_generation(backup.load_manifest(gen)) or any(server.values()):
        return pg_backup.restore(dest, target, user_name, password, gen.name, **server)
    return backup.restore(dest, target, user_name, password, gen.name)


__all__ = ["create", "restore", "verify"]
