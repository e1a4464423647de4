"""Corrections of catalog data, above all after transfer (R12).

A 档号 is immutable once transferred; a wrong one, or wrong metadata, is corrected only through
this logged procedure: the old value is kept (``corrections`` row and audit before/after), a
corrected 档号 renames the dossier, its folder and its page files, and the old number stays
searchable (``dossier_former_numbers``). A correction of a transferred dossier is logged as such.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

from scanstation import id_number, settings
from scanstation.custody import protection, search_sync
from scanstation.custody.destruction import assert_changeable
from scanstation.errors import InvalidInput, NotFound, Refused
from scanstation.home import now_iso
from scanstation.storage.files import fsync_dir, storage_error

TRANSFERRED = ("sent", "transferred", "archived")
TEXT_FIELDS = (
    "title",
    "responsible",
    "employer",
    "remarks",
    "business_stage",
    "insurance_type",
    "category",
    "security_level",
    "volume_no",
    "item_no",
    "box_no",
    "person_name",
)
FIELDS = ("number", "year", "retention", "date", "declared_pages", "person_id_number") + TEXT_FIELDS
_DATE_RE = re.compile(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?")


def resolve(catalog, number: str) -> dict:
    """A dossier by its 档号 or by a 档号 it had before a correction."""
    text = (number or "").strip()
    row = catalog.one("SELECT * FROM dossiers WHERE number = ?", (text,))
    if row is None:
        from scanstation.dossier_number import normalise

        row = catalog.one("SELECT * FROM dossiers WHERE number = ?", (normalise(text),))
    if row is None:
        former = catalog.one("SELECT dossier_id FROM dossier_former_numbers WHERE number = ?", (text,))
        if former:
            row = catalog.one("SELECT * FROM dossiers WHERE id = ?", (former["dossier_id"],))
    if row is None:
        raise NotFound("No dossier {n} in the catalog. Check the number.", "目录中没有档号 {n}。请核对档号。", n=text)
    return row


def history(catalog, dossier_id: int) -> list[dict]:
    return catalog.query("SELECT * FROM corrections WHERE dossier_id = ? ORDER BY id", (dossier_id,))


def _check_number(home, catalog, text: str) -> str:
    from scanstation import dossier_number

    value = dossier_number.normalise((text or "").strip())
    stored = home.setting("dossier_number.schema")
    schema = dossier_number.Schema.from_dict(stored) if stored else dossier_number.default_schema()
    found = dossier_number.problems(value, schema)
    if found:
        raise InvalidInput(
            "The new 档号 {n} is not valid: {why}.",
            "新档号 {n} 无效：{why}。",
            n=value,
            why="; ".join(str(p) for p in found),
        )
    if not value or re.search(r"[\s/\\:*?\"<>|]", value):
        raise InvalidInput(
            "The new 档号 '{n}' cannot be used (empty, spaces or characters not allowed in file names).",
            "新档号“{n}”不可用（为空、含空格或文件名中不允许的字符）。",
            n=value,
        )
    if catalog.one("SELECT 1 FROM dossiers WHERE number = ?", (value,)):
        raise Refused(
            "The 档号 {n} is already used by another dossier (R12: unique).",
            "档号 {n} 已被其他案卷使用（R12：档号唯一）。",
            n=value,
        )
    if catalog.one("SELECT 1 FROM dossier_former_numbers WHERE number = ?", (value,)):
        raise Refused(
            "The 档号 {n} was used before and stays reserved for the dossier that had it.",
            "档号 {n} 曾被使用，保留给原案卷，不能再用。",
            n=value,
        )
    return value


def _check_value(field: str, value: str, rule: id_number.MaskRule | None = None) -> str | int:
    text = (value or "").strip()
    if field == "year":
        if not re.fullmatch(r"[0-9]{4}", text) or not 1900 <= int(text) <= 2100:
            raise InvalidInput("The year must be four digits, e.g. 2024.", "年度须为四位数字，例如 2024。")
        return int(text)
    if field == "retention":
        from scanstation.retention import parse_code

        return parse_code(text)
    if field == "date":
        if not _DATE_RE.fullmatch(text):
            raise InvalidInput(
                "The date must be YYYY-MM-DD (or YYYY-MM, YYYY).", "日期须为 YYYY-MM-DD（或 YYYY-MM、YYYY）。"
            )
        if len(text) == 10:
            try:
                date.fromisoformat(text)
            except ValueError:
                raise InvalidInput("{d} is not a calendar date.", "{d} 不是有效日期。", d=text) from None
        return text
    if field == "declared_pages":
        if not text.isdigit() or int(text) < 1:
            raise InvalidInput(
                "The page count (页数) must be a whole number of at least 1.", "页数须为不小于 1 的整数。"
            )
        return int(text)
    if field == "person_id_number":
        return id_number.validate(text, rule=rule)
    if len(text) > 500:
        raise InvalidInput("The value is too long (at most 500 characters).", "内容过长（最多 500 个字符）。")
    return text


def correct(session, number: str, field: str, value: str, reason: str) -> dict:
    """Correct one field of one dossier; keeps the old value. Returns what was done.

    Archivists and administrators correct any field. A clerk corrects the 页数 (``declared_pages``)
    of a dossier still being scanned (R09: the catalog's count was wrong), through the same logged
    procedure; once the dossier is completed it needs QC to return it, or an archivist."""
    clerk_page_count = field == "declared_pages" and session.can("capture") and not session.can("catalog.correct")
    if not clerk_page_count:
        session.require("catalog.correct")
    if field not in FIELDS:
        raise InvalidInput(
            "The field '{f}' cannot be corrected here; correctable fields: {all}.",
            "字段“{f}”不能在此更正；可更正的字段：{all}。",
            f=field,
            all=", ".join(FIELDS),
        )
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise InvalidInput(
            "Give the reason for the correction (it is kept with the record).", "请填写更正理由（将与记录一并保存）。"
        )
    catalog, home = session.catalog, session.home
    row = resolve(catalog, number)
    if clerk_page_count:
        from scanstation.capture import CAPTURE_STATES, STATUS_ZH

        if row["status"] not in CAPTURE_STATES:
            raise Refused(
                "The 页数 of {n} can be corrected by a clerk only while the dossier is being scanned; it is "
                "{s}. Ask QC to return it, or an archivist to correct it.",
                "案卷 {n} 当前状态为“{s_zh}”，操作员只能在扫描阶段更正页数。请质检退回后更正，或由档案管理员更正。",
                n=row["number"],
                s=row["status"],
                s_zh=STATUS_ZH.get(row["status"], row["status"]),
            )
    assert_changeable(catalog, row)
    new = (
        _check_number(home, catalog, value)
        if field == "number"
        else _check_value(field, value, settings.id_mask_rule(home))
    )
    old = row[field]
    stored_new = new
    if field in protection.PERSONAL_FIELDS and protection.is_enabled(home):
        key = protection.unlocked_key(home)
        if key is None:
            protection.raise_locked()
        if protection.decrypt_field(key, field, old) == new:
            raise Refused(
                "The {f} of {n} already has this value; nothing was changed.",
                "{n} 的 {f} 已是该值；未做修改。",
                f=field,
                n=row["number"],
            )
        stored_new = key.encrypt_field(field, new)
    elif str(old) == str(new):
        raise Refused(
            "The {f} of {n} already has this value; nothing was changed.",
            "{n} 的 {f} 已是该值；未做修改。",
            f=field,
            n=row["number"],
        )
    after_transfer = row["status"] in TRANSFERRED
    action = "dossier.correct_after_transfer" if after_transfer else "dossier.correct"
    now = now_iso()
    renamed: list[tuple[Path, Path]] = []
    try:
        with session.change(None, action, "dossier", row["number"]) as ch:
            conn = ch.conn
            cur = conn.execute(
                "INSERT INTO corrections(dossier_id, number, field, old_value, new_value, reason, status,"
                " after_transfer, user, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row["id"],
                    row["number"],
                    field,
                    str(old),
                    str(stored_new),
                    reason,
                    row["status"],
                    int(after_transfer),
                    session.user.name,
                    now,
                ),
            )
            correction_id = cur.lastrowid
            conn.execute(f"UPDATE dossiers SET {field} = ?, updated_at = ? WHERE id = ?", (stored_new, now, row["id"]))
            if field == "person_id_number" and protection.is_enabled(home):
                conn.execute(
                    "INSERT INTO personal_index(dossier_id, id_number_token) VALUES (?, ?)"
                    " ON CONFLICT(dossier_id) DO UPDATE SET id_number_token = excluded.id_number_token",
                    (row["id"], protection.unlocked_key(home).index_token(new)),
                )
            if field == "number":
                conn.execute(
                    "INSERT INTO dossier_former_numbers(number, dossier_id, correction_id, changed_at)"
                    " VALUES (?, ?, ?, ?)",
                    (row["number"], row["id"], correction_id, now),
                )
                renamed = _rename_files(session, conn, row, new)
                ch.also("dossier.renumber", "dossier", new, before={"number": row["number"]}, after={"number": new})
            search_sync.reindex_dossier(conn, row["id"])
            ch.before = {"field": field, "value": old}
            ch.after = {
                "field": field,
                "value": stored_new,
                "reason": reason,
                "correction_id": correction_id,
                "after_transfer": after_transfer,
                "status": row["status"],
                **({"renamed_files": len(renamed)} if field == "number" else {}),
            }
    except BaseException:
        _undo(renamed)  # the catalog rolled back: put the files back under their old names
        raise
    return {
        "correction_id": correction_id,
        "number": new if field == "number" else row["number"],
        "field": field,
        "after_transfer": after_transfer,
        "renamed_files": len(renamed),
    }


def _rename_files(session, conn, row: dict, new: str) -> list[tuple[Path, Path]]:
    """Rename the dossier's folders and page files to the new 档号; undo on failure."""
    old = row["number"]
    done: list[tuple[Path, Path]] = []
    pages = [
        (pid, name)
        for pid, name in conn.execute("SELECT id, file_name FROM pages WHERE dossier_id = ?", (row["id"],)).fetchall()
        if name.startswith(old + "-")
    ]
    try:
        for base in (Path(session.home.path) / "images", Path(session.home.path) / "originals"):
            src, dst = base / old, base / new
            if not src.is_dir():
                continue
            if dst.exists():
                raise FileExistsError(str(dst))
            os.rename(src, dst)
            done.append((src, dst))
            fsync_dir(base)
            for file in sorted(dst.iterdir()):
                if file.is_file() and file.name.startswith(old + "-"):
                    target = dst / (new + file.name[len(old) :])
                    os.rename(file, target)
                    done.append((file, target))
            fsync_dir(dst)
    except OSError as exc:
        _undo(done)
        raise storage_error(Path(session.home.path) / "images" / new, exc) from exc
    for page_id, name in pages:
        conn.execute("UPDATE pages SET file_name = ? WHERE id = ?", (new + name[len(old) :], page_id))
    return done


def _undo(renamed: list[tuple[Path, Path]]) -> None:
    for src, dst in reversed(renamed):
        try:
            os.rename(dst, src)
        except OSError:
            pass


__all__ = ["FIELDS", "correct", "history", "resolve"]
