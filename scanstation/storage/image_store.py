"""Page images on disk: ``images/{档号}/{档号}-{NNNN}.{ext}``.

A page file is written atomically (temp file, fsync, rename, fsync folder) before its catalog row
commits. ``reconcile`` compares disk and catalog after a crash: files without a row and leftover
temp files are moved to ``quarantine/`` (never deleted), rows without a file are reported.

When the home encrypts its images at rest (R40), the store is given a ``cipher`` (see
``scanstation.storage.encryption.image_store``): new files are written encrypted, and ``read_bytes``
/ ``read_file`` give back the plain image. Checksums in the catalog are always those of the plain
image, the bytes a transfer package carries (R22, R31).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from scanstation.errors import Refused
from scanstation.storage.files import PART_SUFFIX, digests, fsync_dir, storage_error, write_atomic

ENCRYPTED_MAGIC = b"SSENC1\x00"  # first bytes of a page file encrypted at rest


def is_encrypted_file(blob: bytes) -> bool:
    return blob[: len(ENCRYPTED_MAGIC)] == ENCRYPTED_MAGIC


def is_encrypted_at_rest(path) -> bool:
    """Whether the file at ``path`` is a page encrypted at rest (False when it cannot be read:
    whoever opens it next says what is wrong)."""
    try:
        with open(path, "rb") as fh:
            return is_encrypted_file(fh.read(len(ENCRYPTED_MAGIC)))
    except OSError:
        return False


class PageCipher:
    """What the store needs to encrypt at rest; implemented by the home's protection.
    ``encrypting`` says whether new files are written encrypted; reading works either way."""

    @property
    def encrypting(self) -> bool:
        return False

    def seal(self, data: bytes) -> bytes:  # pragma: no cover - interface
        raise NotImplementedError

    def open(self, blob: bytes, name: str) -> bytes:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass
class StoredFile:
    path: Path
    bytes: int
    sha256: str
    sm3: str


@dataclass
class ReconcileReport:
    orphan_files: list[str] = field(default_factory=list)  # on disk, no catalog row (quarantined)
    partial_files: list[str] = field(default_factory=list)  # unfinished temp files (quarantined)
    missing_files: list[dict] = field(default_factory=list)  # catalog row, no file (reported)
    quarantine_dir: str = ""

    @property
    def clean(self) -> bool:
        return not (self.orphan_files or self.partial_files or self.missing_files)

    def as_dict(self) -> dict:
        return {
            "orphan_files": self.orphan_files,
            "partial_files": self.partial_files,
            "missing_files": self.missing_files,
            "quarantine_dir": self.quarantine_dir,
        }


class ImageStore:
    def __init__(self, home_path: Path, cipher: PageCipher | None = None):
        self.root = Path(home_path) / "images"
        self.quarantine_root = Path(home_path) / "quarantine"
        self.cipher = cipher

    @property
    def encrypts(self) -> bool:
        return self.cipher is not None and self.cipher.encrypting

    def check_writable(self) -> None:
        """Raise the cipher's message (e.g. key locked) now rather than at the first page."""
        if self.cipher is not None and self.cipher.encrypting:
            self.cipher.seal(b"")

    def seal_bytes(self, data: bytes) -> bytes:
        """What goes on disk for these plain image bytes."""
        return self.cipher.seal(data) if self.cipher is not None and self.cipher.encrypting else data

    def dossier_dir(self, number: str) -> Path:
        return self.root / number

    def path(self, number: str, file_name: str) -> Path:
        return self.root / number / file_name

    def write(self, number: str, file_name: str, data: bytes) -> StoredFile:
        """Store page bytes durably; returns size and checksums computed from the same bytes (R22)."""
        return self.write_path(self.path(number, file_name), data)

    def write_path(self, target: Path, data: bytes) -> StoredFile:
        """Store plain image bytes at ``target`` (inside the home), encrypted when the home says so."""
        sha256, sm3 = digests(data)
        write_atomic(target, self.seal_bytes(data))
        return StoredFile(target, len(data), sha256, sm3)

    def read_bytes(self, number: str, file_name: str) -> bytes:
        """The plain image of a stored page (decrypted when encrypted at rest)."""
        return self.read_file(self.path(number, file_name))

    def read_file(self, path: Path) -> bytes:
        """The plain image in a page file of this home (live store, kept originals, spool)."""
        return self.open_blob(Path(path).read_bytes(), Path(path).name)

    def open_blob(self, blob: bytes, name: str) -> bytes:
        if not is_encrypted_file(blob):
            return blob
        if self.cipher is None:
            raise Refused(
                "The page file {name} is encrypted, but this home's image protection is not unlocked. "
                "Give the protection passphrase (prompt or SCANSTATION_PROTECT_PASSPHRASE).",
                "页面文件 {name} 已加密，但本工作目录的图像保护尚未解锁。请输入保护口令（提示输入或设置 "
                "SCANSTATION_PROTECT_PASSPHRASE）。",
                name=name,
            )
        return self.cipher.open(blob, name)

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
        """Bring disk and catalog into agreement after a crash, without deleting anything.

        A file that a pending move still has to carry (``.renumber-*``, ``.restore-*``) belongs to a committed
        change: it is left where it is, never quarantined (callers replay the moves first: recovery, the
        reconcile command). A dossier folder left empty (a crashed receive, files set aside here) is removed
        so that the dossier can be stored again."""
        report = ReconcileReport()
        in_flight: set[Path] = set()
        for row in catalog.query("SELECT src, dst FROM pending_moves"):
            in_flight.update(self.root.parent / row["src"], self.root.parent / row["dst"])
        expected: dict[Path, dict] = {}
        for row in catalog.query(
            "SELECT p.id, p.seq, p.file_name, p.sha256, d.number FROM pages p JOIN dossiers d ON d.id = p.dossier_id"
            " WHERE p.state = 'active'"
        ):
            expected[self.path(row["number"], row["file_name"])] = row
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        quarantine = self.quarantine_root / f"reconcile-{stamp}"
        if self.root.exists():
            for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
                for file in sorted(folder.iterdir()):
                    if not file.is_file() or file in in_flight:
                        continue
                    if file.name.endswith(PART_SUFFIX):
                        report.partial_files.append(str(file.relative_to(self.root)))
                    elif file not in expected:
                        report.orphan_files.append(str(file.relative_to(self.root)))
                    else:
                        continue
                    self._quarantine(file, quarantine)
                try:
                    folder.rmdir()  # only succeeds when empty: nothing is deleted
                except OSError:
                    pass
        for path, row in expected.items():
            if not path.exists():
                report.missing_files.append(
                    {"number": row["number"], "seq": row["seq"], "file": row["file_name"], "page_id": row["id"]}
                )
        if report.orphan_files or report.partial_files:
            report.quarantine_dir = str(quarantine)
        return report

    def _quarantine(self, file: Path, quarantine: Path) -> None:
        dest = quarantine / file.parent.name
        dest.mkdir(parents=True, exist_ok=True)
        shutil.move(str(file), str(dest / file.name))
