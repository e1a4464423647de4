"""Builders for the PostgreSQL archive tests: packages from the transfer fixtures, an archive home on
a fresh database of the session's private cluster, and desks as real CLI processes."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from scanstation.home import Home, now_iso
from scanstation.service import Session, init_archive
from scanstation.transfer import batches, keys, outbox, seal
from scanstation.users import row_to_user
from tests.test_transfer_fixtures import (
    _HASH,
    PASSPHRASE,
    PASSWORD,
    World,
    add_dossier,
    make_station,
    make_world,
    station_key,
)

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class PgArchive:
    home: Home
    s: dict

    def close(self):
        self.home.close()


def make_pg_archive(
    path: Path,
    dsn: str,
    store: str,
    endpoint: str | None = None,
    station_pem: Path | None = None,
    tmp: Path | None = None,
) -> PgArchive:
    home = init_archive(path, "X001", "A01", "admin", PASSWORD, dsn=dsn, store=store, endpoint=endpoint)
    with home.catalog.write() as conn:
        for name, roles in [("archivist1", "archivist"), ("archivist2", "archivist")]:
            conn.execute(
                "INSERT INTO users(name, roles, password_hash, created_at) VALUES (?, ?, ?, ?)",
                (name, roles, _HASH, now_iso()),
            )
    s = {r["name"]: Session(home, row_to_user(r)) for r in home.catalog.query("SELECT * FROM users")}
    keys.generate(s["admin"], "archive", "sm2", PASSPHRASE)
    if station_pem is not None:
        keys.trust(s["admin"], "S01", station_pem)
    return PgArchive(home, s)


#: The verify/receive suite runs on both archive backends with the same verdicts (pytest ids: sqlite, postgresql).
BACKENDS = ("sqlite", "postgresql")
_worlds = itertools.count(1)


def world_on(backend: str, tmp: Path, request) -> World:
    """``make_world``; on "postgresql" its archive room is an archive on the session's private cluster (a
    database of its own) and a page store, with the same users and key names, trusted both ways."""
    world = make_world(tmp)
    if backend == "sqlite":
        return world
    try:
        cluster = request.getfixturevalue("pg_cluster")
        dsn = cluster.create_database(f"world{next(_worlds)}")
        pg = make_pg_archive(tmp / "pg-archive", dsn, str(tmp / "pg-store"), station_pem=world.station_pem)
    except BaseException:
        world.close()
        raise
    pem = tmp / "archive-pg.pem"
    keys.export(pg.s["admin"], "archive", pem)
    keys.trust(world.station.s["admin"], "archive-pg", pem)
    world.archive.close()
    return replace(world, archive=pg, archive_pem=pem)


def backend_params():
    """Parameters for a fixture over both backends."""
    return [pytest.param(b, id=b) for b in BACKENDS]


def numbers_for(k: int, n: int = 2) -> list[str]:
    return [f"X001-ZY·DJ·2024·D100-{k:04d}-{i:03d}" for i in range(1, n + 1)]


def make_packages(tmp: Path, count: int, dossiers_each: int = 2, pages: int = 2):
    """One station, ``count`` sealed batches of its own dossiers, delivered to ``tmp/share``."""
    station = make_station(tmp / "station", numbers=[], pages=(), notes=())
    pem = station_key(station, tmp)
    dest = tmp / "share"
    dest.mkdir(exist_ok=True)
    paths = []
    for k in range(1, count + 1):
        numbers = numbers_for(k + 10, dossiers_each)
        for i, number in enumerate(numbers):
            add_dossier(station.home, number, pages, seed=k * 10 + i, notes=0)
        batch = batches.create(station.s["clerk1"], 2024, numbers=numbers)
        seal.seal(station.s["clerk1"], batch["batch_id"], "station", PASSPHRASE)
        paths.append(Path(outbox.send(station.s["clerk1"], batch["batch_id"], dest)["path"]))
    return station, pem, paths


def desk_env(user: str = "archivist1") -> dict:
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        SCANSTATION_USER=user,
        SCANSTATION_PASSWORD=PASSWORD,
        SCANSTATION_KEY_PASSPHRASE=PASSPHRASE,
        SCANSTATION_LANG="en",
        QT_QPA_PLATFORM="offscreen",
    )
    return env


def desk(
    home: Path, package: Path, user: str = "archivist1", seed: int = 7, extra_env: dict | None = None
) -> subprocess.Popen:
    """A receiving desk: the real command line in a process of its own."""
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from scanstation.cli.main import entry; sys.exit(entry())",
            "--home",
            str(home),
            "--json",
            "receive",
            str(package),
            "--accept",
            "--key",
            "archive",
            "--seed",
            str(seed),
        ],
        env={**desk_env(user), **(extra_env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, dict | None, str]:
    out, err = proc.communicate(timeout=timeout)
    data = None
    for line in out.splitlines():
        if line.startswith("{"):
            data = json.loads(line)
    return proc.returncode, data, err


def archive_state(catalog) -> dict:
    """What the archive holds, to prove that no batch is half-received."""
    return {
        "packages": catalog.one("SELECT count(*) AS n FROM received_packages")["n"],
        "dossiers": catalog.one("SELECT count(*) AS n FROM dossiers")["n"],
        "pages": catalog.one("SELECT count(*) AS n FROM pages")["n"],
        "linked": catalog.one("SELECT count(*) AS n FROM received_dossiers")["n"],
    }


def assert_whole(catalog, store, expect_dossiers_per_package: int, pages_per_dossier: int) -> None:
    """Every received package is whole: its dossiers and pages are all there, every page file is in the
    store and matches, and no dossier exists without its package."""
    from scanstation import audit

    for pkg in catalog.query("SELECT id, dossiers FROM received_packages WHERE decision = 'accepted'"):
        n = catalog.one("SELECT count(*) AS n FROM received_dossiers WHERE package_id = ?", (pkg["id"],))["n"]
        assert n == pkg["dossiers"] == expect_dossiers_per_package
    orphans = catalog.one(
        "SELECT count(*) AS n FROM dossiers d WHERE NOT EXISTS "
        "(SELECT 1 FROM received_dossiers r WHERE r.dossier_id = d.id)"
    )["n"]
    assert orphans == 0
    for d in catalog.query("SELECT id FROM dossiers"):
        assert (
            catalog.one("SELECT count(*) AS n FROM pages WHERE dossier_id = ? AND state = 'active'", (d["id"],))["n"]
            == pages_per_dossier
        )
    for p in catalog.query("SELECT sm3, sha256 FROM pages WHERE state = 'active'"):
        assert store.check(p["sm3"], p["sha256"])
    report = audit.verify(catalog.conn)
    assert report.ok, report.reason_en
