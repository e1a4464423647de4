"""Shared builders for the transfer tests: real homes, real JPEGs, real keys.

Approved dossiers are made directly (catalog rows + ImageStore.write of small real JPEGs at
300 dpi) so the transfer tests do not depend on scanning; the demo test scans for real.
"""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from scanstation import audit
from scanstation.home import Home, now_iso
from scanstation.service import Session
from scanstation.storage import catalog as catalog_module
from scanstation.storage.image_store import ImageStore
from scanstation.transfer import MIGRATION
from scanstation.users import hash_password, row_to_user

PASSWORD = "password-123"
PASSPHRASE = "key-passphrase-123"
_HASH = hash_password(PASSWORD)


def ensure_migration() -> None:
    """Make sure catalogs get the transfer tables (a no-op once the catalog registers migration 4)."""
    known = catalog_module.all_migrations() if hasattr(catalog_module, "all_migrations") else catalog_module.MIGRATIONS
    if all(number != MIGRATION[0] for number, _, _ in known):
        catalog_module.MIGRATIONS.append(MIGRATION)
        catalog_module.MIGRATIONS.sort(key=lambda m: m[0])
        catalog_module.SCHEMA_VERSION = max(catalog_module.SCHEMA_VERSION, MIGRATION[0])


ensure_migration()


def jpeg_bytes(seed: int, size=(240, 320), dpi=(300, 300)) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buf, "JPEG", quality=80, dpi=dpi)
    return buf.getvalue()


def add_user(home: Home, name: str, roles: str) -> Session:
    with home.catalog.write() as conn:
        conn.execute(
            "INSERT INTO users(name, roles, password_hash, created_at) VALUES (?, ?, ?, ?)",
            (name, roles, _HASH, now_iso()),
        )
    return Session(home, row_to_user(home.catalog.one("SELECT * FROM users WHERE name = ?", (name,))))


NUMBERS = ["X001-ZY·DJ·2024·D100-0001-001", "X001-ZY·DJ·2024·D100-0001-002", "X001-ZY·DJ·2024·Y-0002-001"]


def add_dossier(
    home: Home,
    number: str,
    pages: int,
    *,
    status: str = "approved",
    year: int = 2024,
    seed: int = 0,
    notes: int = 0,
    declared: int | None = None,
    title: str | None = None,
    category: str = "ZY·DJ",
    retention: str | None = None,
) -> int:
    store = ImageStore(home.path)
    stamp = now_iso()
    with home.catalog.write() as conn:
        cur = conn.execute(
            "INSERT INTO dossiers(number, fonds_code, year, category, insurance_type, business_stage, retention, title,"
            " responsible, date, declared_pages, security_level, person_name, person_id_number, employer, status,"
            " scanned_by, completed_by, qc_by, created_at, updated_at) VALUES (?, 'X001', ?, ?, '企业职工基本养老保险',"
            " '参保人员登记', ?, ?, 'XX市社会保险事业管理中心', '2024-06-14', ?, '内部', '王芳', '31010419761017344X',"
            " 'XX市城市建设投资集团有限公司', ?, 'clerk1', 'clerk1', 'qc1', ?, ?)",
            (
                number,
                year,
                category,
                retention or number.split("·")[3].split("-")[0] if "·" in number else "D100",
                title or f"{number} 参保人员登记表",
                declared if declared is not None else pages + notes,
                status,
                stamp,
                stamp,
            ),
        )
        dossier_id = cur.lastrowid
        for seq in range(1, pages + 1):
            data = jpeg_bytes(seed * 1000 + seq)
            name = f"{number}-{seq:04d}.jpg"
            stored = store.write(number, name, data)
            conn.execute(
                "INSERT INTO pages(dossier_id, seq, state, file_name, bytes, sha256, sm3, format, width, height, dpi,"
                " color_mode, compression, capture_time, device, software, operator, processing_log, qc_flags,"
                " created_at) VALUES (?, ?, 'active', ?, ?, ?, ?, 'jpeg', 240, 320, 300, 'color', 'JPEG q80', ?, ?,"
                " 'ScanStation 0.1.0', 'clerk1', ?, '[]', ?)",
                (
                    dossier_id,
                    seq,
                    name,
                    stored.bytes,
                    stored.sha256,
                    stored.sm3,
                    stamp,
                    json.dumps(
                        {"maker": "ScanStation", "model": "Demo scanner", "serial": "DEMO-0001", "backend": "demo"}
                    ),
                    json.dumps([{"step": "deskew", "angle": 0.4}]),
                    stamp,
                ),
            )
            audit.append(
                conn,
                ts=stamp,
                user="clerk1",
                station=home.station,
                action="page.capture",
                object_type="page",
                object_id=f"{number}#{seq:04d}",
                after={"file": name, "sm3": stored.sm3},
            )
        for k in range(notes):
            conn.execute(
                "INSERT INTO pages(dossier_id, seq, state, original_page_no, note, operator, created_at)"
                " VALUES (?, NULL, 'not_scanned', ?, '空白页，未扫描', 'clerk1', ?)",
                (dossier_id, pages + k + 1, stamp),
            )
        if status == "approved":
            conn.execute(
                "INSERT INTO qc_decisions(dossier_id, decision, user, ts) VALUES (?, 'approve', 'qc1', ?)",
                (dossier_id, stamp),
            )
    return dossier_id


@dataclass
class Station:
    home: Home
    s: dict = field(default_factory=dict)  # name -> Session

    def close(self):
        self.home.close()


def make_station(path: Path, numbers=NUMBERS, pages=(3, 2, 2), notes=(0, 1, 0)) -> Station:
    home = Home.create(path, "X001", "S01")
    station = Station(home)
    for name, roles in [("admin", "admin"), ("clerk1", "clerk"), ("clerk2", "clerk"), ("qc1", "qc")]:
        station.s[name] = add_user(home, name, roles)
    for i, (number, n, k) in enumerate(zip(numbers, pages, notes)):
        add_dossier(home, number, n, seed=i + 1, notes=k)
    return station


def make_archive(path: Path) -> Station:
    home = Home.create(path, "X001", "A01", role="archive")
    archive = Station(home)
    for name, roles in [("admin", "admin"), ("archivist1", "archivist"), ("archivist2", "archivist")]:
        archive.s[name] = add_user(home, name, roles)
    return archive


def station_key(station: Station, tmp: Path, algorithm: str = "sm2", name: str = "station") -> Path:
    from scanstation.transfer import keys

    keys.generate(station.s["admin"], name, algorithm, PASSPHRASE)
    out = tmp / f"{name}-{station.home.station}.pem"
    keys.export(station.s["admin"], name, out)
    return out


def sealed_batch(station: Station, key: str = "station", year: int = 2024, numbers=None) -> dict:
    from scanstation.transfer import batches, seal

    batch = batches.create(station.s["clerk1"], year, numbers=numbers)
    return seal.seal(station.s["clerk1"], batch["batch_id"], key, PASSPHRASE)


@dataclass
class World:
    """A station with a sealed batch, and an archive room that trusts the station and is trusted by it."""

    station: Station
    archive: Station
    package: Path
    sealed: dict
    station_pem: Path
    archive_pem: Path
    tmp: Path

    def close(self):
        self.station.close()
        self.archive.close()

    def copy_package(self, dest: Path) -> Path:
        target = dest / self.package.name
        shutil.copytree(self.package, target, symlinks=True)
        return target


def make_world(tmp: Path, algorithm: str = "sm2") -> World:
    from scanstation.transfer import keys

    station = make_station(tmp / "station")
    archive = make_archive(tmp / "archive")
    station_pem = station_key(station, tmp, algorithm)
    archive_pem = station_key(archive, tmp, "sm2", name="archive")
    keys.trust(archive.s["admin"], "S01", station_pem)
    keys.trust(station.s["admin"], "archive", archive_pem)
    sealed = sealed_batch(station)
    return World(station, archive, Path(sealed["package"]), sealed, station_pem, archive_pem, tmp)


def archive_counts(home: Home) -> dict:
    """What the archive holds: used to prove that a refused package wrote nothing. On an archive on
    PostgreSQL the page files are the store's objects that its active pages name."""
    images = home.path / "images"
    store = home.page_store
    if store is not None:
        named = home.catalog.query("SELECT sm3 FROM pages WHERE state = 'active' AND file_name != ''")
        files = sum(1 for r in named if store.has(r["sm3"]))
    else:
        files = sum(1 for p in images.rglob("*") if p.is_file()) if images.exists() else 0
    return {
        "dossiers": home.catalog.one("SELECT count(*) n FROM dossiers")["n"],
        "pages": home.catalog.one("SELECT count(*) n FROM pages")["n"],
        "accepted": home.catalog.one("SELECT count(*) n FROM received_packages WHERE decision = 'accepted'")["n"],
        "image_files": files,
    }
