"""The outbox (R38): delivering a sealed package to a folder — a network share or a removable drive.

A delivery copies the package under a temporary name, re-reads every byte on the destination and
compares it with the package's (signed) manifests, and only then renames it to its final name, so
the archive room never sees a half-written package. While the destination is unreachable the
delivery is retried with back-off (bounded); when it gives up it says so and the package stays
sealed in the outbox. The destination folder must already exist: creating it would write onto the
local disk when a share or drive is not mounted.

The package stays in the outbox after sending (R38): until the archive room's receipt says it was
received, and ``sent_batches.keep_years`` after the sending. ``prune`` then removes it (the
folder and a .zip of it in the outbox); the batch row stays, with a note of what was removed and
when, and of anything that could not be removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sys
import time
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from scanstation import settings
from scanstation.errors import CheckFailed, InvalidInput, NotFound, Refused, StorageError
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
        raise CheckFailed(
            "The package in the outbox is damaged: {why}. Seal the batch again (cancel it first).",
            "发件箱中的移交包已损坏：{why}。请撤销批次后重新封装。",
            why="; ".join(p.message for p in report.problems[:5]),
        )
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


def send(
    session: Session,
    ref,
    destination,
    *,
    as_zip: bool = False,
    deflate: bool = False,
    attempts: int = DEFAULT_ATTEMPTS,
    first_wait: float = DEFAULT_FIRST_WAIT,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[int, str, float], None] | None = None,
) -> dict:
    """Deliver sealed batch ``ref`` to the folder ``destination`` (a copy of the package or a .zip)."""
    session.require("batch.manage")
    require_schema(session.catalog)
    batch = batches.get(session.catalog, ref)
    if batch["state"] not in ("sealed", "sent"):
        raise Refused(
            "Batch {b} is {s}; only a sealed batch is sent. Seal it first: scanstation batch seal {b} --key NAME",
            "批次 {b} 当前为“{s_zh}”；只有已封装的批次才能发送。请先封装：scanstation batch seal {b} --key 密钥名",
            b=batch["batch_id"],
            s=batch["state"],
            s_zh=batches.STATE_ZH.get(batch["state"], batch["state"]),
        )
    package = Path(session.home.path) / batch["package_path"]
    if not package.is_dir():
        raise NotFound(
            "The package of batch {b} is not in the outbox ({p}).",
            "发件箱中没有批次 {b} 的移交包（{p}）。",
            b=batch["batch_id"],
            p=str(package),
        )
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
                conn.execute(
                    "INSERT INTO transfer_deliveries(batch_id, destination, kind, attempt, ok, error, started_at,"
                    " finished_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?)",
                    (batch["id"], str(dest), kind, attempt, last_error[:1000], started, now_iso()),
                )
            if not retry or attempt == attempts:
                break
            if on_retry:
                on_retry(attempt, last_error, wait)
            sleep(wait)
            wait = min(wait * 2, MAX_WAIT)
            continue
        return mark_sent(session, batch, str(dest), kind, str(final), size, attempt, started)
    session.log(
        "batch.send_failed",
        "batch",
        batch["batch_id"],
        {"to": str(dest), "attempts": attempts, "error": last_error[:500]},
    )
    raise StorageError(
        "Batch {b} could not be delivered to {dest} after {n} attempt(s): {error}. The package stays "
        "sealed in the outbox; connect the share or drive and run: scanstation batch send {b} --to {dest}",
        "批次 {b} 经 {n} 次尝试仍未能送达 {dest}：{error}。移交包仍封存在发件箱中；请连接共享目录或移动硬盘后再执行："
        "scanstation batch send {b} --to {dest}",
        b=batch["batch_id"],
        dest=str(dest),
        n=attempt,
        error=last_error or tr("unknown error", "未知错误"),
    )


def mark_sent(
    session: Session, batch: dict, destination: str, kind: str, final: str, size: int, attempt: int, started: str
) -> dict:
    """Record a delivery that arrived (a folder, a zip or an upload): the batch and its dossiers are sent."""
    stamp = now_iso()
    with session.change("batch.manage", "batch.send", "batch", batch["batch_id"]) as ch:
        ch.conn.execute(
            "INSERT INTO transfer_deliveries(batch_id, destination, kind, attempt, ok, path, bytes,"
            " started_at, finished_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)",
            (batch["id"], destination, kind, attempt, final, size, started, stamp),
        )
        details = dict(
            batch["details"],
            sent={
                "to": destination,
                "path": final,
                "kind": kind,
                "bytes": size,
                "at": stamp,
                "by": session.user.name,
                "attempts": attempt,
            },
        )
        ch.conn.execute(
            "UPDATE batches SET state = 'sent', details = ?, updated_at = ? WHERE id = ?",
            (json.dumps(details, ensure_ascii=False), stamp, batch["id"]),
        )
        for d in batches.dossiers_of(session.catalog, batch["id"]):
            if d["status"] == "batched":
                ch.conn.execute("UPDATE dossiers SET status = 'sent', updated_at = ? WHERE id = ?", (stamp, d["id"]))
                ch.also("dossier.sent", "dossier", d["number"], {"status": "batched"}, {"status": "sent"})
        ch.before = {"state": batch["state"]}
        ch.after = {"state": "sent", "path": final, "kind": kind, "bytes": size, "attempts": attempt}
    return {
        "batch_id": batch["batch_id"],
        "state": "sent",
        "path": final,
        "kind": kind,
        "bytes": size,
        "attempts": attempt,
        "tagmanifest_sm3": batch["tagmanifest_sm3"],
    }


# -- pruning sent batches (R38) --------------------------------------------------------------
PRUNING_PREFIX = ".pruning-"


def parse_as_of(value) -> date:
    """``--as-of``: a date, or text YYYY-MM-DD; today when empty."""
    if value is None or value == "":
        return date.today()
    if isinstance(value, datetime):
        return value.date()
    from scanstation.custody.retention_due import parse_date

    return parse_date(value, "as-of date", "截止日期")


def keep_years(home) -> int:
    value = settings.get(home, "sent_batches.keep_years")
    years = -1
    if isinstance(value, float) and value.is_integer():
        years = int(value)
    elif isinstance(value, (int, str)) and not isinstance(value, bool):
        try:
            years = int(str(value).strip())
        except ValueError:
            pass
    if years < 0:
        raise InvalidInput(
            "The setting sent_batches.keep_years '{v}' is not a whole number of years (0 or more); "
            "nothing was removed. Correct the setting.",
            "设置项 sent_batches.keep_years“{v}”不是有效的年数（0 或正整数）；未删除任何内容。请更正该设置。",
            v=value,
        )
    return years


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def _sent_at(catalog, batch: dict) -> str:
    """The last successful delivery (a batch sent twice is kept from the later sending)."""
    row = catalog.one(
        "SELECT max(finished_at) at FROM transfer_deliveries WHERE batch_id = ? AND ok = 1", (batch["id"],)
    )
    stamps: list[str] = [s for s in (row["at"] if row else None, (batch["details"].get("sent") or {}).get("at")) if s]
    return max(stamps, key=lambda s: _local_date(s) or date.min) if stamps else ""


def _local_date(stamp: str) -> date | None:
    try:
        return datetime.fromisoformat(stamp).date()
    except (TypeError, ValueError):
        return None


def _accepted_receipt(catalog, batch: dict) -> dict | None:
    return catalog.one(
        "SELECT receipt_id, decision, issued_at, imported_at, tagmanifest_sm3 FROM transfer_receipts"
        " WHERE batch_id = ? AND decision = 'accepted' ORDER BY id DESC LIMIT 1",
        (batch["id"],),
    )


def _outbox_items(home, batch: dict) -> list[Path]:
    """What of this batch's package is in the outbox: the folder, a .zip of it, leftovers of an
    interrupted prune."""
    if not batch["package_path"]:
        return []
    folder = Path(home.path) / batch["package_path"]
    items = [p for p in (folder, folder.with_name(folder.name + ".zip")) if p.exists() or p.is_symlink()]
    items += sorted(folder.parent.glob(f"{PRUNING_PREFIX}{folder.name}-" + "[0-9a-f]" * 8))
    return items


def _tag_digest(item: Path) -> str | None:
    """SM3 of the signed tag manifest of a package folder or .zip; None when it cannot be read."""
    try:
        if item.is_dir():
            return hashlib.new("sm3", (item / layout.SIGNED_TAG_MANIFEST).read_bytes()).hexdigest()
        with zipfile.ZipFile(item) as zf:
            names = [n for n in zf.namelist() if n.count("/") == 1 and n.endswith("/" + layout.SIGNED_TAG_MANIFEST)]
            if len(names) != 1:
                return None
            return hashlib.new("sm3", zf.read(names[0])).hexdigest()
    except (OSError, zipfile.BadZipFile, KeyError, RuntimeError):
        return None


def _size(item: Path) -> tuple[int, int]:
    """(bytes, files) under ``item``."""
    if not item.is_dir():
        try:
            return item.lstat().st_size, 1
        except OSError:
            return 0, 0
    total = count = 0
    for folder, _dirs, files in os.walk(item):
        for f in files:
            try:
                total += os.lstat(os.path.join(folder, f)).st_size
                count += 1
            except OSError:
                pass
    return total, count


def _rel(home, path: Path) -> str:
    return str(path.relative_to(home.path))


def _review(session: Session, batch: dict, as_of: date, years: int) -> dict:
    """Whether this batch's package may be removed now, and why (not)."""
    home, catalog = session.home, session.catalog
    items = _outbox_items(home, batch)
    sent_at = _sent_at(catalog, batch) if batch["state"] in ("sent", "received", "rejected") else ""
    sent_day = _local_date(sent_at) if sent_at else None
    keep_until = _add_years(sent_day, years).isoformat() if sent_day else ""
    receipt = _accepted_receipt(catalog, batch) if batch["state"] == "received" else None
    info = {
        "batch_id": batch["batch_id"],
        "state": batch["state"],
        "sent_at": sent_at,
        "keep_until": keep_until,
        "receipt_id": receipt["receipt_id"] if receipt else "",
        "tagmanifest_sm3": batch["tagmanifest_sm3"],
        "paths": [_rel(home, p) for p in items],
        "bytes": 0,
        "files": 0,
    }
    for p in items:
        size, count = _size(p)
        info["bytes"] += size
        info["files"] += count

    def keep(code: str, en: str, zh: str, **fields) -> dict:
        return dict(
            info,
            prunable=False,
            reason=code,
            why=tr(en, zh, **fields),
            why_en=en.format(**fields),
            why_zh=zh.format(**fields),
        )

    if batch["state"] != "received":
        if batch["state"] == "sent":
            return keep(
                "not_received",
                "sent, no receipt yet: kept until the archive room confirms it",
                "已发送，尚无回执：在档案室确认接收前保留",
            )
        if batch["state"] == "rejected":
            return keep("rejected", "returned by the archive room: kept", "被档案室退回：保留")
        return keep(
            "not_sent",
            "{s}, not sent: kept",
            "{s_zh}，未发送：保留",
            s=batch["state"],
            s_zh=batches.STATE_ZH.get(batch["state"], batch["state"]),
        )
    if receipt is None:
        return keep("no_receipt", "no accepted receipt is recorded: kept", "没有“接收”回执的记录：保留")
    if sent_day is None:
        return keep("no_sending", "no sending is recorded: kept", "没有发送记录：保留")
    if as_of < _add_years(sent_day, years):
        return keep(
            "young",
            "received; kept until {d} ({y} years after sending)",
            "已接收；保留至 {d}（发送后 {y} 年）",
            d=keep_until,
            y=years,
        )
    en, zh = "received; the {y} years after sending ended on {d}", "已接收；发送后 {y} 年已于 {d} 届满"
    return dict(
        info,
        prunable=True,
        reason="due",
        why=tr(en, zh, y=years, d=keep_until),
        why_en=en.format(y=years, d=keep_until),
        why_zh=zh.format(y=years, d=keep_until),
    )


def _remove(home, batch: dict, items: list[Path]) -> dict:
    """Remove the package's items from the outbox; never raises for a file that cannot be removed.

    A folder is first renamed to a hidden name, so a half-removed package is never left under the
    package's own name; what remains is reported (and found again by the next prune).
    """
    outbox_dir = Path(home.path) / Path(batch["package_path"]).parent
    removed: list[str] = []
    remaining: list[str] = []
    errors: list[dict[str, object]] = []
    for item in items:
        rel = _rel(home, item)
        if item.is_dir() and not item.is_symlink():
            target = item
            if not item.name.startswith(PRUNING_PREFIX):
                target = item.with_name(f"{PRUNING_PREFIX}{item.name}-{secrets.token_hex(4)}")
                try:
                    os.rename(item, target)
                except OSError as exc:
                    remaining.append(rel)
                    errors.append({"path": rel, "error": exc.strerror or str(exc)})
                    continue
            failures: list[tuple[str, BaseException]] = []
            if sys.version_info >= (3, 12):
                shutil.rmtree(target, onexc=lambda _fn, path, exc: failures.append((path, exc)))
            else:
                shutil.rmtree(target, onerror=lambda _fn, path, info: failures.append((path, info[1])))
            if target.exists():
                remaining.append(_rel(home, target))
                failed_path, failure = failures[0] if failures else (str(target), OSError("not removed"))
                errors.append(
                    {
                        "path": os.path.relpath(failed_path, home.path),
                        "error": getattr(failure, "strerror", None) or str(failure),
                        "files_left": _size(target)[1],
                    }
                )
            else:
                removed.append(rel)
        else:
            try:
                item.unlink()
                removed.append(rel)
            except FileNotFoundError:
                removed.append(rel)
            except OSError as exc:
                remaining.append(rel)
                errors.append({"path": rel, "error": exc.strerror or str(exc)})
    try:
        fsync_dir(outbox_dir)
    except OSError:
        pass
    return {"removed": removed, "remaining": remaining, "errors": errors}


def prune(session: Session, *, as_of=None, apply: bool = False) -> dict:
    """R38: the outbox packages of received batches whose sending is ``sent_batches.keep_years`` old.

    Lists every batch that still has a package in the outbox, with whether it may be removed as of
    ``as_of`` (default today) and why. Only a batch whose receipt was imported as accepted
    (``received``) and whose last sending is at least keep_years before ``as_of`` qualifies; a
    sent batch without receipt, a rejected one, a draft or sealed one is never touched. Nothing is
    removed unless ``apply``; then each removal is audited (``batch.prune``, with the SM3 digest of
    the package's signed tag manifest) and noted in the batch's details (``pruned``). A package
    whose tag manifest is not the one the receipt confirmed is left alone. Files that cannot be
    removed are reported in ``failed`` and noted as ``remaining``.
    """
    session.require("batch.manage")
    require_schema(session.catalog)
    home = session.home
    day = parse_as_of(as_of)
    if apply and day > date.today():
        raise Refused(
            "Packages are removed only as of today or an earlier date, not {d}; nothing was removed. A "
            "later date is for a dry run (without --apply).",
            "只能按今天或更早的日期删除移交包，不能按 {d}；未删除任何内容。较晚的日期仅用于预演（不加 --apply）。",
            d=day.isoformat(),
        )
    years = keep_years(home)
    result: dict[str, Any] = {
        "as_of": day.isoformat(),
        "keep_years": years,
        "apply": bool(apply),
        "prunable": [],
        "kept": [],
        "pruned": [],
        "failed": [],
    }
    rows = session.catalog.query("SELECT * FROM batches WHERE package_path != '' ORDER BY fonds_code, year, seq")
    for row in rows:
        row["details"] = json.loads(row["details"] or "{}")
        if not _outbox_items(home, row):
            continue
        review = _review(session, row, day, years)
        (result["prunable"] if review["prunable"] else result["kept"]).append(review)
    if not apply:
        return result
    for review in result["prunable"]:
        batch = batches.get(session.catalog, review["batch_id"])
        items = _outbox_items(home, batch)
        checked: list[Path] = []
        foreign: list[Path] = []
        for item in items:
            if item.name.startswith(PRUNING_PREFIX):
                checked.append(item)  # left by an interrupted prune: already identified then
                continue
            digest = _tag_digest(item)
            (checked if digest == batch["tagmanifest_sm3"] else foreign).append(item)
        outcome = _remove(home, batch, checked)
        for item in foreign:
            rel = _rel(home, item)
            outcome["remaining"].append(rel)
            outcome["errors"].append(
                {
                    "path": rel,
                    "error": "not the package the receipt confirmed (its tag manifest differs or cannot be read)",
                    "kept": True,
                }
            )
        stamp = now_iso()
        note = {
            "at": stamp,
            "by": session.user.name,
            "as_of": day.isoformat(),
            "keep_years": years,
            "sent_at": review["sent_at"],
            "receipt_id": review["receipt_id"],
            "tagmanifest_sm3": batch["tagmanifest_sm3"],
            "removed": outcome["removed"],
            "remaining": outcome["remaining"],
            "errors": outcome["errors"],
            "bytes": review["bytes"],
            "files": review["files"],
        }
        previous = batch["details"].get("pruned")
        if previous:  # an earlier prune left something behind: keep what it said
            note["earlier"] = previous.pop("earlier", []) + [previous]
        details = dict(batch["details"], pruned=note)
        with session.change("batch.manage", "batch.prune", "batch", batch["batch_id"]) as ch:
            ch.conn.execute(
                "UPDATE batches SET details = ?, updated_at = ? WHERE id = ?",
                (json.dumps(details, ensure_ascii=False), stamp, batch["id"]),
            )
            ch.before = {
                "state": batch["state"],
                "package": review["paths"],
                "tagmanifest_sm3": batch["tagmanifest_sm3"],
            }
            ch.after = {
                "pruned_at": stamp,
                "removed": outcome["removed"],
                "remaining": outcome["remaining"],
                "tagmanifest_sm3": batch["tagmanifest_sm3"],
                "receipt": review["receipt_id"],
                "sent_at": review["sent_at"],
                "as_of": day.isoformat(),
                "keep_years": years,
            }
        entry = dict(review, removed=outcome["removed"], remaining=outcome["remaining"], pruned_at=stamp)
        result["pruned"].append(entry)
        if outcome["remaining"]:
            listing = "; ".join(f"{e['path']} ({e['error']})" for e in outcome["errors"]) or ", ".join(
                outcome["remaining"]
            )
            failure = StorageError(
                "Batch {b}: not everything of its package could be removed from the outbox: {list}. It is still "
                "there and the batch's record says so. Check the files and their permissions, then run again: "
                "scanstation outbox prune --apply",
                "批次 {b}：其移交包未能从发件箱中全部删除：{list}。这些内容仍在发件箱中，批次记录已注明。请检查文件及其权限后再执行："
                "scanstation outbox prune --apply",
                b=batch["batch_id"],
                list=listing,
            )
            result["failed"].append(
                {
                    "batch_id": batch["batch_id"],
                    "remaining": outcome["remaining"],
                    "errors": outcome["errors"],
                    "message": failure.message,
                    "en": failure.en,
                    "zh": failure.zh,
                }
            )
    return result


__all__ = ["DEFAULT_ATTEMPTS", "keep_years", "parse_as_of", "prune", "send"]
