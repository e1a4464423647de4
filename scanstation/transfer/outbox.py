"""The outbox (R38): delivering a sealed package to a folder — a network share or a removable drive.

A delivery copies the package under a temporary name, re-reads every byte on the destination and
compares it with the package's (signed) manifests, and only then renames it to its final name, so
the archive room never sees a half-written package. While the destination is unreachable the
delivery is retried with back-off (bounded); when it gives up it says so and the package stays
sealed in the outbox. The destination folder must already exist: creating it would write onto the
local disk when a share or drive is not mounted.

The package stays in the outbox after sending (kept ``sent_batches.keep_years``, R38).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Callable

from scanstation.errors import CheckFailed, NotFound, Refused, StorageError
from scanstation.home import now_iso
from scanstation.i18n import tr
from scanstation.service import Session
from scanstation.storage.files import fsync_dir
from scanstation.transfer import bagit, batches, require_schema, zip_package
from scanstation.transfer import package_layout as layout

DEFAULT_ATTEMPTS = 5
DEFAULT_FIRST_WAIT = 2.0
MAX_WAIT = 60.0
CHUNK = 1 << 20


class DeliveryFailed(Exception):
    """One attempt failed; ``retry`` says whether trying again can help."""

    def __init__(self, message: str, retry: bool = True):
        super().__init__(message)
        self.retry = retry


def _copy_file(src: Path, dst: Path) -> None:
    with open(src, "rb") as fi, open(dst, "xb") as fo:
        shutil.copyfileobj(fi, fo, CHUNK)
        fo.flush()
        os.fsync(fo.fileno())


def _copy_tree(src: Path, dst: Path) -> int:
    total = 0
    dst.mkdir()
    for folder, dirs, files in os.walk(src):
        rel = Path(folder).relative_to(src)
        for d in dirs:
            (dst / rel / d).mkdir()
        for f in files:
            _copy_file(Path(folder) / f, dst / rel / f)
            total += (dst / rel / f).stat().st_size
    for folder, _dirs, _files in os.walk(dst):
        fsync_dir(Path(folder))
    return total


def _small_digests(package: Path) -> dict[str, dict[str, str]]:
    """SHA-256 and SM3 of the tag files (read from the outbox package)."""
    out = {}
    for p in package.iterdir():
        if p.is_file():
            data = p.read_bytes()
            out[p.name] = {"sha256": hashlib.sha256(data).hexdigest(), "sm3": hashlib.new("sm3", data).hexdigest()}
    return out


def _expected(package: Path) -> dict[str, dict[str, str]]:
    """Every file of the package with the digests it must have: payload from the manifests."""
    report = bagit.validate_bag(package, fast=True, algorithms=layout.ALGORITHMS, require_tag_manifest=True)
    if not report.valid:
        raise CheckFailed("The package in the outbox is damaged: {why}. Seal the batch again (cancel it first).",
                          "发件箱中的移交包已损坏：{why}。请撤销批次后重新封装。",
                          why="; ".join(p.message for p in report.problems[:5]))
    expected: dict[str, dict[str, str]] = {}
    for alg, entries in report.manifests.items():
        for rel, digest in entries.items():
            expected.setdefault(rel, {})[alg] = digest
    expected.update(_small_digests(package))
    return expected


def _verify_folder(copy: Path, expected: dict[str, dict[str, str]]) -> None:
    report = bagit.validate_bag(copy, algorithms=layout.ALGORITHMS, require_tag_manifest=True, strict=True)
    problems = [p.en for p in report.problems]
    tags = _small_digests(copy)
    for rel, want in expected.items():
        if "/" not in rel and tags.get(rel) != want:
            problems.append(f"{rel} differs or is missing")
    if problems:
        raise DeliveryFailed("; ".join(problems[:5]))


def _attempt(package: Path, dest: Path, as_zip: bool, deflate: bool, expected) -> tuple[Path, int]:
    if not dest.is_dir():
        raise DeliveryFailed(f"{dest} is not reachable (no such folder)")
    final = dest / (package.name + (".zip" if as_zip else ""))
    if final.exists():
        raise DeliveryFailed(f"{final} already exists at the destination", retry=False)
    temp = dest / f".{package.name}.part-{secrets.token_hex(4)}"
    try:
        if as_zip:
            size = zip_package.write_zip(package, temp, deflate=deflate)
            problems = zip_package.verify_against(temp, package, expected)
            if problems:
                raise DeliveryFailed("; ".join(problems[:5]))
        else:
            size = _copy_tree(package, temp)
            _verify_folder(temp, expected)
        os.rename(temp, final)
        fsync_dir(dest)
        return final, size
    except BaseException:
        if temp.is_dir():
            shutil.rmtree(temp, ignore_errors=True)
        elif temp.exists():
            try:
                temp.unlink()
            except OSError:
                pass
        raise


def send(session: Session, ref, destination, *, as_zip: bool = False, deflate: bool = False,
         attempts: int = DEFAULT_ATTEMPTS, first_wait: float = DEFAULT_FIRST_WAIT,
         sleep: Callable[[float], None] = time.sleep, on_retry: Callable[[int, str, float], None] | None = None) -> dict:
    """Deliver sealed batch ``ref`` to the folder ``destination`` (a copy of the package or a .zip)."""
    session.require("batch.manage")
    require_schema(session.catalog)
    batch = batches.get(session.catalog, ref)
    if batch["state"] not in ("sealed", "sent"):
        raise Refused("Batch {b} is {s}; only a sealed batch is sent. Seal it first: scanstation batch seal {b} --key NAME",
                      "批次 {b} 当前为“{s_zh}”；只有已封装的批次才能发送。请先封装：scanstation batch seal {b} --key 密钥名",
                      b=batch["batch_id"], s=batch["state"], s_zh=batches.STATE_ZH.get(batch["state"], batch["state"]))
    package = Path(session.home.path) / batch["package_path"]
    if not package.is_dir():
        raise NotFound("The package of batch {b} is not in the outbox ({p}).", "发件箱中没有批次 {b} 的移交包（{p}）。",
                       b=batch["batch_id"], p=str(package))
    expected = _expected(package)
    dest = Path(destination)
    kind = "zip" if as_zip else "folder"
    wait, last_error = first_wait, ""
    attempts = max(1, int(attempts))
    for attempt in range(1, attempts + 1):
        started = now_iso()
        try:
            final, size = _attempt(package, dest, as_zip, deflate, expected)
        except (DeliveryFailed, OSError) as exc:
            last_error = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            retry = getattr(exc, "retry", True)
            with session.catalog.write() as conn:
                conn.execute("INSERT INTO transfer_deliveries(batch_id, destination, kind, attempt, ok, error, started_at,"
                             " finished_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?)",
                             (batch["id"], str(dest), kind, attempt, last_error[:1000], started, now_iso()))
            if not retry or attempt == attempts:
                break
            if on_retry:
                on_retry(attempt, last_error, wait)
            sleep(wait)
            wait = min(wait * 2, MAX_WAIT)
            continue
        stamp = now_iso()
        with session.change("batch.manage", "batch.send", "batch", batch["batch_id"]) as ch:
            ch.conn.execute("INSERT INTO transfer_deliveries(batch_id, destination, kind, attempt, ok, path, bytes,"
                            " started_at, finished_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)",
                            (batch["id"], str(dest), kind, attempt, str(final), size, started, stamp))
            details = dict(batch["details"], sent={"to": str(dest), "path": str(final), "kind": kind, "bytes": size,
                                                   "at": stamp, "by": session.user.name, "attempts": attempt})
            ch.conn.execute("UPDATE batches SET state = 'sent', details = ?, updated_at = ? WHERE id = ?",
                            (json.dumps(details, ensure_ascii=False), stamp, batch["id"]))
            for d in batches.dossiers_of(session.catalog, batch["id"]):
                if d["status"] == "batched":
                    ch.conn.execute("UPDATE dossiers SET status = 'sent', updated_at = ? WHERE id = ?", (stamp, d["id"]))
                    ch.also("dossier.sent", "dossier", d["number"], {"status": "batched"}, {"status": "sent"})
            ch.before = {"state": batch["state"]}
            ch.after = {"state": "sent", "path": str(final), "kind": kind, "bytes": size, "attempts": attempt}
        return {"batch_id": batch["batch_id"], "state": "sent", "path": str(final), "kind": kind, "bytes": size,
                "attempts": attempt, "tagmanifest_sm3": batch["tagmanifest_sm3"]}
    session.log("batch.send_failed", "batch", batch["batch_id"], {"to": str(dest), "attempts": attempts,
                                                                    "error": last_error[:500]})
    raise StorageError("Batch {b} could not be delivered to {dest} after {n} attempt(s): {error}. The package stays "
                       "sealed in the outbox; connect the share or drive and run: scanstation batch send {b} --to {dest}",
                       "批次 {b} 经 {n} 次尝试仍未能送达 {dest}：{error}。移交包仍封存在发件箱中；请连接共享目录或移动硬盘后再执行："
                       "scanstation batch send {b} --to {dest}", b=batch["batch_id"], dest=str(dest), n=attempt,
                       error=last_error or tr("unknown error", "未知错误"))


__all__ = ["DEFAULT_ATTEMPTS", "send"]
