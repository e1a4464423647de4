"""Page files as custody reads, checks and removes them, whichever backend holds them.

Lending, the reading room, fixity and the destruction procedure work on page files through
``PageFiles``. Two implementations, chosen by the home (``Home.page_files``), so that nothing above
the storage layer knows which backend it has:

- ``ImageFiles``: the SQLite home's image folders (``images/{档号}/…`` and the kept originals),
  decrypting files encrypted at rest.
- ``StoreFiles``: the content-addressed page store of an archive on PostgreSQL (POSIX or S3). A page
  file is the object named by the page's SM3. Fixity re-hashes the object and compares it with its
  name and the catalog's digests; the store's other objects (package records, receipts) are checked
  against ``store_objects``.

Removal (destruction) differs in *when*, not in what the caller does: the image folders are removed
inside the destroying transaction (a failure leaves the catalog unchanged); store objects are queued
in that transaction (``store_removals``, only objects no other live page names: the same bytes are
stored once) and removed after the commit under an exclusive lock that receiving desks take shared
while they commit, so an object a desk is about to name again is never removed under it. A process
killed between the commit and the removal leaves the queue 'pending'; the next run finishes it.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from scanstation.errors import StorageError
from scanstation.storage.faults import crash_point
from scanstation.storage.files import digests, file_digests, fsync_dir, write_atomic
from scanstation.storage.image_store import ImageStore, is_encrypted_at_rest


class PageFiles:
    """What custody needs of page files. ``row`` is a page row with ``number``, ``file_name`` and ``sm3``."""

    def read_bytes(self, number: str, file_name: str) -> bytes:
        """The plain image of an active page (FileNotFoundError when it is not stored)."""
        raise NotImplementedError

    def read_page(self, row: dict) -> bytes:
        raise NotImplementedError

    def digests(self, row: dict) -> tuple[int, str, str]:
        """(bytes, sha256, sm3) of the plain image as stored now; FileNotFoundError when it is not there."""
        raise NotImplementedError

    def local_path(self, number: str, file_name: str) -> Path | None:
        """A file on this machine holding the active page, for the window's page strip and viewer (which
        open pages by path); None when there is none."""
        raise NotImplementedError

    def other_objects(self, catalog) -> list[dict]:
        """Stored files besides page images that fixity checks: rows with ``sm3``, ``sha256``, ``bytes``."""
        return []

    def dossier_files(self, catalog, dossier: dict) -> tuple[list[dict], object]:
        """Every file a dossier has at rest (file, bytes, sha256, sm3) and a plan for removing them."""
        raise NotImplementedError

    def remove_dossier_files(self, conn, plans: list, register_no: str, stamp: str) -> dict:
        """Inside the destroying transaction, after the pages were marked destroyed."""
        raise NotImplementedError

    def pending_removals(self, catalog) -> list[dict]:
        """Removals queued by a committed destruction and not finished yet."""
        return []

    def finish_removals(self, conn, rows: list[dict], stamp: str) -> dict:
        """Inside a transaction: remove the queued objects no live page names again; mark each done."""
        return {"removed": [], "kept": []}


class ImageFiles(PageFiles):
    """The SQLite home's image folders."""

    def __init__(self, store: ImageStore, home_path: Path):
        self.store = store
        self.home_path = Path(home_path)

    def read_bytes(self, number: str, file_name: str) -> bytes:
        return self.store.read_bytes(number, file_name)

    def read_page(self, row: dict) -> bytes:
        return self.store.read_bytes(row["number"], row["file_name"])

    def local_path(self, number: str, file_name: str) -> Path | None:
        return self.store.path(number, file_name)  # encrypted at rest: the viewer decrypts (open_page_file)

    def digests(self, row: dict) -> tuple[int, str, str]:
        path = self.store.path(row["number"], row["file_name"])
        if not path.exists():
            raise FileNotFoundError(path)
        if is_encrypted_at_rest(path):  # the catalog holds the plain image's checksums (R22): decrypt, then hash
            plain = self.store.read_file(path)
            return (len(plain), *digests(plain))
        return file_digests(path)

    def dossier_files(self, catalog, dossier: dict) -> tuple[list[dict], object]:
        folders = [self.store.dossier_dir(dossier["number"]), self.home_path / "originals" / dossier["number"]]
        files, doomed = [], []
        for folder in folders:
            if folder.is_dir():
                for file in sorted(p for p in folder.rglob("*") if p.is_file()):
                    size, sha256, sm3 = file_digests(file)
                    files.append(
                        {
                            "file": file.relative_to(self.home_path).as_posix(),
                            "bytes": size,
                            "sha256": sha256,
                            "sm3": sm3,
                        }
                    )
                doomed.append(folder)
        return files, doomed

    def remove_dossier_files(self, conn, plans: list, register_no: str, stamp: str) -> dict:
        # Inside the transaction: if removing fails the catalog stays as it was, and running the
        # second confirmation again finishes the job.
        for folder in (f for plan in plans for f in plan):
            try:
                shutil.rmtree(folder)
                fsync_dir(folder.parent)
            except OSError as exc:
                raise StorageError(
                    "Cannot remove {path}: {error}. Nothing was marked destroyed; fix the folder's "
                    "permissions and confirm again.",
                    "无法删除 {path}：{error}。尚未标记为已销毁；请检查目录权限后重新确认。",
                    path=str(folder),
                    error=exc.strerror or str(exc),
                ) from exc
        return {}


class StoreFiles(PageFiles):
    """The content-addressed page store of an archive on a database server."""

    def __init__(self, store, catalog):
        self.store = store
        self.catalog = catalog

    def read_bytes(self, number: str, file_name: str) -> bytes:
        row = self.catalog.one(
            "SELECT p.sm3 FROM pages p JOIN dossiers d ON d.id = p.dossier_id"
            " WHERE d.number = ? AND p.file_name = ? AND p.state = 'active'",
            (number, file_name),
        )
        if row is None or not row["sm3"]:
            raise FileNotFoundError(f"{number}/{file_name}")
        return self.store.read(row["sm3"])

    def read_page(self, row: dict) -> bytes:
        if not row.get("sm3"):
            raise FileNotFoundError(f"{row['number']}/{row['file_name']}")
        return self.store.read(row["sm3"])

    def local_path(self, number: str, file_name: str) -> Path | None:
        """A copy of the page's object in this process's private temporary folder (owner-only, removed when
        the process ends), named by its SM3 so that it never goes stale; None when the object is missing or
        its bytes do not match its name (fixity reports that)."""
        row = self.catalog.one(
            "SELECT p.sm3 FROM pages p JOIN dossiers d ON d.id = p.dossier_id"
            " WHERE d.number = ? AND p.file_name = ? AND p.state = 'active'",
            (number, file_name),
        )
        if row is None or not row["sm3"]:
            return None
        sm3 = row["sm3"]
        path = _page_cache() / (sm3 + Path(file_name).suffix.lower())
        if not path.is_file():
            try:
                data = self.store.read(sm3)
            except (FileNotFoundError, StorageError):
                return None
            if hashlib.new("sm3", data).hexdigest() != sm3:
                return None
            write_atomic(path, data, private=True)
        return path

    def digests(self, row: dict) -> tuple[int, str, str]:
        if not row.get("sm3"):
            raise FileNotFoundError(f"{row['number']}/{row['file_name']}")
        return self.store.hash(row["sm3"])

    def other_objects(self, catalog) -> list[dict]:
        return catalog.query(
            "SELECT s.sm3, s.sha256, s.bytes FROM store_objects s"
            " WHERE NOT EXISTS (SELECT 1 FROM pages p WHERE p.sm3 = s.sm3) ORDER BY s.sm3"
        )

    def dossier_files(self, catalog, dossier: dict) -> tuple[list[dict], object]:
        # every state: replaced originals are kept in the store too
        rows = catalog.query(
            "SELECT file_name, bytes, sha256, sm3 FROM pages WHERE dossier_id = ? AND sm3 != '' ORDER BY id",
            (dossier["id"],),
        )
        files, objects = [], set()
        for r in rows:
            if r["sm3"] in objects or not self.store.has(r["sm3"]):
                continue
            objects.add(r["sm3"])
            files.append(
                {
                    "file": f"{dossier['number']}/{r['file_name']}",
                    "object": f"store:{r['sm3']}",
                    "bytes": r["bytes"],
                    "sha256": r["sha256"],
                    "sm3": r["sm3"],
                }
            )
        return files, objects

    def remove_dossier_files(self, conn, plans: list, register_no: str, stamp: str) -> dict:
        candidates = sorted(set().union(*plans)) if plans else []
        shared = set()
        for i in range(0, len(candidates), 500):
            chunk = candidates[i : i + 500]
            marks = ",".join("?" * len(chunk))
            shared |= {
                r[0]
                for r in conn.execute(
                    f"SELECT DISTINCT sm3 FROM pages WHERE sm3 IN ({marks}) AND state != 'destroyed'", chunk
                ).fetchall()
            }
        queued = [s for s in candidates if s not in shared]
        for sm3 in queued:
            conn.execute(
                "INSERT OR REPLACE INTO store_removals(sm3, register_no, state, queued_at, done_at)"
                " VALUES (?, ?, 'pending', ?, '')",
                (sm3, register_no, stamp),
            )
            conn.execute("DELETE FROM store_objects WHERE sm3 = ?", (sm3,))
        return {"objects_queued": len(queued), "objects_shared": sorted(shared)}

    def pending_removals(self, catalog) -> list[dict]:
        return catalog.query("SELECT * FROM store_removals WHERE state = 'pending' ORDER BY sm3")

    @staticmethod
    def named(conn, sm3: str) -> bool:
        """Does a live page or a catalog record (``store_objects``: pages, kept package files) name it?"""
        return bool(
            conn.execute("SELECT 1 FROM store_objects WHERE sm3 = ?", (sm3,)).fetchone()
            or conn.execute("SELECT 1 FROM pages WHERE sm3 = ? AND state != 'destroyed' LIMIT 1", (sm3,)).fetchone()
        )

    def unnamed(self, conn, candidates: list[str]) -> list[str]:
        """Those of ``candidates`` that nothing in the catalog names (not even a queued removal)."""
        named = set()
        for i in range(0, len(candidates), 500):
            chunk = candidates[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for sql in (
                f"SELECT sm3 FROM store_objects WHERE sm3 IN ({marks})",
                f"SELECT DISTINCT sm3 FROM pages WHERE sm3 IN ({marks}) AND state != 'destroyed'",
                f"SELECT sm3 FROM store_removals WHERE sm3 IN ({marks}) AND state = 'pending'",
            ):
                named |= {r[0] for r in conn.execute(sql, chunk).fetchall()}
        return [s for s in candidates if s not in named]

    def queue_removals(self, conn, names: list[str], register_no: str, stamp: str) -> None:
        for sm3 in names:
            conn.execute(
                "INSERT OR REPLACE INTO store_removals(sm3, register_no, state, queued_at, done_at)"
                " VALUES (?, ?, 'pending', ?, '')",
                (sm3, register_no, stamp),
            )

    def finish_removals(self, conn, rows: list[dict], stamp: str) -> dict:
        conn.lock_store_removals(shared=False)  # no desk commits rows naming store objects meanwhile
        removed, kept = [], []
        for r in rows:
            state = conn.execute("SELECT state FROM store_removals WHERE sm3 = ?", (r["sm3"],)).fetchone()
            if state is None or state[0] != "pending":
                continue  # finished by another process
            if self.named(conn, r["sm3"]):
                kept.append(r["sm3"])  # named again by a page or package received since: it stays
                conn.execute("UPDATE store_removals SET state = 'kept', done_at = ? WHERE sm3 = ?", (stamp, r["sm3"]))
                continue
            self.store.remove(r["sm3"])
            crash_point("destroy.object_removed")
            removed.append(r["sm3"])
            conn.execute("UPDATE store_removals SET state = 'removed', done_at = ? WHERE sm3 = ?", (stamp, r["sm3"]))
        return {"removed": removed, "kept": kept}


_CACHE: list[Path] = []


def _page_cache() -> Path:
    if not _CACHE:
        import atexit
        import os

        from scanstation.storage import temp_files

        folder = Path(temp_files.temp_dir()) / f"store-pages-{os.getpid()}"
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        atexit.register(shutil.rmtree, folder, True)
        _CACHE.append(folder)
    _CACHE[0].mkdir(parents=True, exist_ok=True)  # swept meanwhile: made again
    return _CACHE[0]


__all__ = ["ImageFiles", "PageFiles", "StoreFiles"]
