"""Page images on disk: ``images/{档号}/{档号}-{NNNN}.{ext}``.

A page file is written atomically (temp file, fsync, rename, fsync folder) before its catalog row
commits. ``reconcile`` compares disk and catalog after a crash: files without a row and leftover
temp files are moved to ``quarantine/`` (never deleted), rows without a file are reported.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from scanstation.storage.files import PART_SUFFIX, digests, fsync_dir, storage_error, write_atomic


@dataclass
class StoredFile:
    path: Path
    bytes: int
    sha256: str
    sm3: str


@dataclass
class ReconcileReport:
    orphan_files: list[str] = field(default_factory=list)     # on disk, no catalog row (quarantined)
    partial_files: list[str] = field(default_factory=list)    # unfinished temp files (quarantined)
    missing_files: list[dict] = field(default_factory=list)   # catalog row, no file (reported)
    quarantine_dir: str = ""

    @property
    def clean(self) -> bool:
        return not (self.orphan_files or self.partial_files or self.missing_files)

    def as_dict(self) -> dict:
        return {"orphan_files": self.orphan_files, "partial_files": self.partial_files,
                "missing_files": self.missing_files, "quarantine_dir": self.quarantine_dir}


class ImageStore:
    def __init__(self, home_path: Path):
        self.root = Path(home_path) / "images"
        self.quarantine_root = Path(home_path) / "quarantine"

    def dossier_dir(self, number: str) -> Path:
        return self.root / number

    def path(self, number: str, file_name: str) -> Path:
        return self.root / number / file_name

    def write(self, number: str, file_name: str, data: bytes) -> StoredFile:
        """Store page bytes durably; returns size and checksums computed from the same bytes (R22)."""
        target = self.path(number, file_name)
        sha256, sm3 = digests(data)
        write_atomic(target, data)
        return StoredFile(target, len(data), sha256, sm3)

    def rename(self, number: str, old_name: str, new_name: str) -> None:
        """Rename within a dossier folder (renumbering); the target must not exist."""
        folder = self.dossier_dir(number)
        src, dst = folder / old_name, folder / new_name
        if dst.exists():
            raise FileExistsError(str(dst))
        try:
            os.replace(src, dst)
            fsync_dir(folder)
        except OSError as exc:
            raise storage_error(dst, exc) from exc

    def move_out(self, number: str, file_name: str, dest_folder: Path, new_name: str | None = None) -> Path:
        """Move a page file out of the live store (kept originals, quarantine), never deleting it."""
        src = self.path(number, file_name)
        dest_folder.mkdir(parents=True, exist_ok=True)
        dst = dest_folder / (new_name or file_name)
        try:
            shutil.move(str(src), str(dst))
            fsync_dir(dest_folder)
            fsync_dir(src.parent)
        except OSError as exc:
            raise storage_error(dst, exc) from exc
        return dst

    def reconcile(self, catalog) -> ReconcileReport:
        """Bring disk and catalog into agreement after a crash, without deleting anything."""
        report = ReconcileReport()
        expected: dict[Path, dict] = {}
        for row in catalog.query(
                "SELECT p.id, p.seq, p.file_name, p.sha256, d.number FROM pages p JOIN dossiers d ON d.id = p.dossier_id"
                " WHERE p.state = 'active'"):
            expected[self.path(row["number"], row["file_name"])] = row
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        quarantine = self.quarantine_root / f"reconcile-{stamp}"
        if self.root.exists():
            for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
                for file in sorted(folder.iterdir()):
                    if not file.is_file():
                        continue
                    if file.name.endswith(PART_SUFFIX):
                        report.partial_files.append(str(file.relative_to(self.root)))
                    elif file not in expected:
                        report.orphan_files.append(str(file.relative_to(self.root)))
                    else:
                        continue
                    self._quarantine(file, quarantine)
        for path, row in expected.items():
            if not path.exists():
                report.missing_files.append({"number": row["number"], "seq": row["seq"],
                                             "file": row["file_name"], "page_id": row["id"]})
        if report.orphan_files or report.partial_files:
            report.quarantine_dir = str(quarantine)
        return report

    def _quarantine(self, file: Path, quarantine: Path) -> None:
        dest = quarantine / file.parent.name
        dest.mkdir(parents=True, exist_ok=True)
        shutil.move(str(file), str(dest / file.name))
