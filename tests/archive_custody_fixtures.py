"""An archive home with received batches, on the SQLite home or on PostgreSQL with a page store, for the
custody tests that run the same steps on both backends (tests/test_archive_pg_custody.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scanstation.home import Home, now_iso
from scanstation.service import Session, init_archive
from scanstation.transfer import keys, outbox, receive
from scanstation.users import row_to_user
from tests.test_transfer_fixtures import (
    _HASH,
    PASSPHRASE,
    PASSWORD,
    add_dossier,
    make_station,
    sealed_batch,
    station_key,
)

# Two dossiers due for destruction (2010 + 10 years) and one kept for 30 years. DUE_SHARED and KEEP were
# scanned from the same seed: their page images are the same bytes, one object each in the page store.
# They come in two batches (a package with the same image twice is refused as a duplicate).
DUE_SHARED = "X001-ZY·DJ·2010·D10-0001-001"
DUE_OWN = "X001-ZY·DJ·2010·D10-0001-002"
KEEP = "X001-ZY·DJ·2010·D30-0002-001"
LATE = "X001-ZY·DJ·2010·D30-0003-001"
USERS = [("archivist1", "archivist"), ("archivist2", "archivist"), ("clerk1", "clerk"), ("auditor1", "auditor")]


def make_custody_packages(tmp: Path, late: bool = False) -> tuple[list[Path], Path]:
    """Two sealed, delivered batches of the three dossiers; (packages, the station's public key). ``late``: a
    third batch with LATE, whose page images are DUE_OWN's bytes (an object a destruction may remove)."""
    station = make_station(tmp / "station", numbers=[], pages=(), notes=())
    batches = [[DUE_SHARED, DUE_OWN], [KEEP]] + ([[LATE]] if late else [])
    try:
        for number, seed in ((DUE_SHARED, 5), (DUE_OWN, 6), (KEEP, 5)) + (((LATE, 6),) if late else ()):
            add_dossier(station.home, number, 2, year=2010, seed=seed)
        pem = station_key(station, tmp)
        dest = tmp / "share"
        dest.mkdir(exist_ok=True)
        paths = []
        for numbers in batches:
            sealed = sealed_batch(station, year=2010, numbers=numbers)
            paths.append(Path(outbox.send(station.s["clerk1"], sealed["batch_id"], dest)["path"]))
    finally:
        station.close()
    return paths, pem


@dataclass
class CustodyArchive:
    kind: str  # sqlite | postgresql
    home: Home
    s: dict  # name -> Session

    def close(self):
        self.home.close()


def make_custody_archive(
    kind: str,
    path: Path,
    packages: list[Path],
    pem: Path,
    dsn: str | None = None,
    store: str | None = None,
    endpoint=None,
) -> CustodyArchive:
    """An archive home of the given backend that has received (accepted) ``packages``."""
    if kind == "sqlite":
        home = Home.create(path, "X001", "A01", role="archive")
        users = [("admin", "admin"), *USERS]
    else:
        home = init_archive(path, "X001", "A01", "admin", PASSWORD, dsn=dsn, store=store, endpoint=endpoint)
        users = USERS
    with home.catalog.write() as conn:
        for name, roles in users:
            conn.execute(
                "INSERT INTO users(name, roles, password_hash, created_at) VALUES (?, ?, ?, ?)",
                (name, roles, _HASH, now_iso()),
            )
    s = {r["name"]: Session(home, row_to_user(r)) for r in home.catalog.query("SELECT * FROM users")}
    keys.generate(s["admin"], "archive", "sm2", PASSPHRASE)
    keys.trust(s["admin"], "S01", pem)
    for package in packages:
        done = receive.receive(s["archivist1"], package, decision="accept", passphrase=PASSPHRASE, seed=1)
        assert done["decision"] == "accepted", done
    return CustodyArchive(kind, home, s)


__all__ = ["DUE_OWN", "DUE_SHARED", "KEEP", "LATE", "CustodyArchive", "make_custody_archive", "make_custody_packages"]
