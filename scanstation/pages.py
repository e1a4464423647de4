"""Page operations that keep numbering contiguous (R11) and are logged, and dossier completion (R09).

Every operation changes rows and records the file moves it needs in one audited transaction,
then carries the moves out (scanstation.storage.file_moves): a crash at any point is finished at
the next start. Files leave the live store only into ``originals/`` — replaced and deleted pages
are kept until the dossier is completed, so every operation can be undone until then.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import datetime

from scanstation import page_count
from scanstation.capture import CAPTURE_STATES, STATUS_ZH, find_dossier
from scanstation.dossier_number import page_file_name
from scanstation.errors import InvalidInput, NotFound, Refused
from scanstation.home import now_iso
from scanstation.ocr.queue import enqueue as enqueue_ocr
from scanstation.search import unindex_page
from scanstation.service import Session
from scanstation.storage import file_moves
from scanstation.storage.encryption import image_store
from scanstation.storage.faults import crash_point

# Flags that must be resolved (kept with an explanation, or fixed) before completion (R09).
BLOCKING_FLAGS = ("blank", "duplicate")


def _rel(number: str, name: str) -> str:
    return f"images/{number}/{name}"


def _stamp() -> str:
    return datetime.now().strftime("%Y%m%d%H%M%S%f")


def editable_dossier(session: Session, number: str) -> dict:
    """The dossier, checked for a change of its pages; what a crash left of it is finished first."""
    from scanstation import recovery

    session.require("capture")
    row = find_dossier(session, number)
    if row["status"] not in CAPTURE_STATES:
        raise Refused(
            "Dossier {n} is {state}; its pages can no longer be changed.",
            "档号 {n} 当前状态为“{state_zh}”，页面不能再修改。",
            n=row["number"],
            state=row["status"],
            state_zh=STATUS_ZH.get(row["status"], row["status"]),
        )
    recovery.settle_dossier(session, row)  # pending moves replayed; an unrecovered scan refuses
    return row


def list_pages(session: Session, number: str) -> list[dict]:
    session.require("catalog.read")
    dossier = find_dossier(session, number)
    rows = session.catalog.query(
        "SELECT id, seq, state, file_name, bytes, sha256, sm3, format, width, height, dpi, color_mode, capture_time,"
        " operator, device, qc_flags, processing_log, note, original_page_no FROM pages WHERE dossier_id = ?"
        " AND state IN ('active', 'not_scanned') ORDER BY state = 'not_scanned', seq, original_page_no",
        (dossier["id"],),
    )
    for r in rows:
        r["qc_flags"] = json.loads(r["qc_flags"] or "[]")
        r["processing_log"] = json.loads(r["processing_log"] or "[]")
    return rows


def active_page_count(catalog, dossier_id: int) -> int:
    """How many pages of the dossier are active (scanned and not replaced or deleted)."""
    row = catalog.one("SELECT count(*) AS n FROM pages WHERE dossier_id = ? AND state = 'active'", (dossier_id,))
    return row["n"]


def _active(session: Session, dossier: dict) -> list[dict]:
    return session.catalog.query(
        "SELECT * FROM pages WHERE dossier_id = ? AND state = 'active' ORDER BY seq", (dossier["id"],)
    )


def _page(pages: list[dict], seq: int, number: str) -> dict:
    for p in pages:
        if p["seq"] == seq:
            return p
    raise NotFound(
        "Dossier {n} has no page {seq} (it has {count}).",
        "档号 {n} 没有第 {seq} 页（共 {count} 页）。",
        n=number,
        seq=seq,
        count=len(pages),
    )


def _renumber(ch, number: str, dossier_id: int, ordered: list[dict]) -> list[tuple[str, str]]:
    """Give ``ordered`` pages seq 1..n and matching names; returns the moves (two-phase, no collisions)."""
    first, second = [], []
    ch.conn.execute("UPDATE pages SET seq = -id WHERE dossier_id = ? AND state = 'active'", (dossier_id,))
    for seq, page in enumerate(ordered, start=1):
        name = page_file_name(number, seq, page["format"] or "jpeg")
        if name != page["file_name"]:
            temp = f".renumber-{page['id']}-{page['file_name']}"
            first.append((_rel(number, page["file_name"]), _rel(number, temp)))
            second.append((_rel(number, temp), _rel(number, name)))
            ch.also(
                "page.renumber",
                "page",
                f"{number}#{seq:04d}",
                {"seq": page["seq"], "file": page["file_name"]},
                {"seq": seq, "file": name},
            )
        ch.conn.execute("UPDATE pages SET seq = ?, file_name = ? WHERE id = ?", (seq, name, page["id"]))
    return first + second


def _finish(session: Session, moves: list[tuple[str, str]]) -> None:
    crash_point("moves.planned")  # committed, files not moved yet
    file_moves.apply(session.home.path, session.catalog)


def _keep_original(number: str, page: dict, why: str) -> tuple[str, str]:
    kept = f"originals/{number}/{page['file_name']}.{why}-{_stamp()}"
    return _rel(number, page["file_name"]), kept


def delete(session: Session, number: str, seq: int) -> None:
    dossier = editable_dossier(session, number)
    pages = _active(session, dossier)
    page = _page(pages, seq, dossier["number"])
    with session.change("capture", "page.delete", "page", f"{dossier['number']}#{seq:04d}") as ch:
        keep = _keep_original(dossier["number"], page, "deleted")
        ch.conn.execute(
            "UPDATE pages SET state = 'deleted', seq = NULL, kept_path = ? WHERE id = ?", (keep[1], page["id"])
        )
        unindex_page(ch.conn, page["id"])
        moves = [keep] + _renumber(ch, dossier["number"], dossier["id"], [p for p in pages if p["id"] != page["id"]])
        file_moves.plan(ch.conn, moves)
        ch.before, ch.after = {"file": page["file_name"], "sm3": page["sm3"]}, {"kept": keep[1]}
    _finish(session, moves)


def move(session: Session, number: str, from_seq: int, to_seq: int) -> None:
    dossier = editable_dossier(session, number)
    pages = _active(session, dossier)
    page = _page(pages, from_seq, dossier["number"])
    if not 1 <= to_seq <= len(pages):
        raise InvalidInput(
            "Target position {t} is outside 1-{n}.", "目标位置 {t} 超出 1-{n} 的范围。", t=to_seq, n=len(pages)
        )
    order = [p for p in pages if p["id"] != page["id"]]
    order.insert(to_seq - 1, page)
    with session.change("capture", "page.move", "page", f"{dossier['number']}#{from_seq:04d}") as ch:
        moves = _renumber(ch, dossier["number"], dossier["id"], order)
        file_moves.plan(ch.conn, moves)
        ch.before, ch.after = {"seq": from_seq}, {"seq": to_seq}
    _finish(session, moves)


def move_last_pages_after(session: Session, number: str, count: int, after_seq: int) -> None:
    """Insert: the last ``count`` pages (just scanned) go after page ``after_seq``."""
    dossier = editable_dossier(session, number)
    pages = _active(session, dossier)
    if not 0 <= after_seq <= len(pages) - count:
        raise InvalidInput("Cannot insert after page {a}.", "不能插入到第 {a} 页之后。", a=after_seq)
    new, old = pages[len(pages) - count :], pages[: len(pages) - count]
    order = old[:after_seq] + new + old[after_seq:]
    with session.change("capture", "page.insert", "dossier", dossier["number"]) as ch:
        moves = _renumber(ch, dossier["number"], dossier["id"], order)
        file_moves.plan(ch.conn, moves)
        ch.after = {"inserted": count, "after": after_seq}
    _finish(session, moves)


def replace_with_last(session: Session, number: str, seq: int) -> dict:
    """Replace page ``seq`` by the last page (its rescan); the original is kept (NAPS2 #162)."""
    dossier = editable_dossier(session, number)
    pages = _active(session, dossier)
    if len(pages) < 2:
        raise InvalidInput(
            "There is no rescanned page to put in place of page {seq}.", "没有可替换第 {seq} 页的重扫页。", seq=seq
        )
    old = _page(pages, seq, dossier["number"])
    new = pages[-1]
    if new["id"] == old["id"]:
        raise InvalidInput("Page {seq} cannot replace itself.", "第 {seq} 页不能替换自身。", seq=seq)
    order = [new if p["id"] == old["id"] else p for p in pages[:-1]]
    with session.change("capture", "page.replace", "page", f"{dossier['number']}#{seq:04d}") as ch:
        keep = _keep_original(dossier["number"], old, "replaced")
        ch.conn.execute(
            "UPDATE pages SET state = 'replaced', seq = NULL, kept_path = ? WHERE id = ?", (keep[1], old["id"])
        )
        unindex_page(ch.conn, old["id"])
        moves = [keep] + _renumber(ch, dossier["number"], dossier["id"], order)
        file_moves.plan(ch.conn, moves)
        ch.conn.execute(
            "UPDATE qc_decisions SET resolved = 1 WHERE dossier_id = ? AND page_id = ? AND decision IN"
            " ('reject', 'rescan')",
            (dossier["id"], old["id"]),
        )
        ch.before = {"file": old["file_name"], "sm3": old["sm3"]}
        ch.after = {"sm3": new["sm3"], "kept": keep[1]}
    _finish(session, moves)
    return {"seq": seq, "kept": keep[1]}


def rotate(session: Session, number: str, seq: int, degrees: int) -> None:
    """Rotate a page by 90/180/270 degrees; the pre-rotation file is kept in originals/ (R05)."""
    from PIL import Image

    if degrees % 90 or degrees % 360 == 0:
        raise InvalidInput("Rotate by 90, 180 or 270 degrees.", "只能旋转 90、180 或 270 度。")
    dossier = editable_dossier(session, number)
    page = _page(_active(session, dossier), seq, dossier["number"])
    store = image_store(session.home)
    with Image.open(io.BytesIO(store.read_bytes(dossier["number"], page["file_name"]))) as im:
        dpi = im.info.get("dpi", (page["dpi"], page["dpi"]))
        turned = im.transpose(
            {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}[
                degrees % 360
            ]
        )
        buf = io.BytesIO()
        if page["format"] == "tiff":
            turned.save(buf, "TIFF", compression="group4" if turned.mode == "1" else "tiff_lzw", dpi=dpi)
        else:
            turned.save(buf, "JPEG", quality=90, dpi=(int(round(dpi[0])), int(round(dpi[1]))), optimize=True)
    staged = f".rotated-{page['id']}-{page['file_name']}"
    stored = store.write(dossier["number"], staged, buf.getvalue())  # encrypted at rest if the home says so
    data, sha256, sm3 = buf.getvalue(), stored.sha256, stored.sm3
    log = json.loads(page["processing_log"] or "[]") + [{"step": "rotate", "degrees": degrees % 360, "by": "user"}]
    with session.change("capture", "page.rotate", "page", f"{dossier['number']}#{seq:04d}") as ch:
        keep = _keep_original(dossier["number"], page, f"rot{degrees % 360}")
        moves = [keep, (_rel(dossier["number"], staged), _rel(dossier["number"], page["file_name"]))]
        file_moves.plan(ch.conn, moves)
        ch.conn.execute(
            "UPDATE pages SET bytes = ?, sha256 = ?, sm3 = ?, width = ?, height = ?, processing_log = ?,"
            " kept_path = ? WHERE id = ?",
            (
                len(data),
                sha256,
                sm3,
                turned.width,
                turned.height,
                json.dumps(log, ensure_ascii=False),
                keep[1],
                page["id"],
            ),
        )
        ch.before, ch.after = {"sm3": page["sm3"]}, {"sm3": sm3, "degrees": degrees % 360, "kept": keep[1]}
        enqueue_ocr(ch.conn, page["id"])  # turned text reads differently
    _finish(session, moves)


def mark_not_scanned(session: Session, number: str, original_page_no: int, note: str) -> None:
    """R10: a page of the original deliberately not scanned carries a note with its page number."""
    dossier = editable_dossier(session, number)
    note = (note or "").strip()
    if not note:
        raise InvalidInput("Say why the page is not scanned (R10).", "请说明该页不扫描的原因（R10）。")
    if original_page_no < 1:
        raise InvalidInput("The page number must be 1 or more.", "页号必须大于等于 1。")
    with session.change("capture", "page.not_scanned", "dossier", dossier["number"]) as ch:
        ch.conn.execute(
            "INSERT INTO pages(dossier_id, seq, state, original_page_no, note, operator, created_at)"
            " VALUES (?, NULL, 'not_scanned', ?, ?, ?, ?)",
            (dossier["id"], original_page_no, note, session.user.name, now_iso()),
        )
        ch.after = {"original_page": original_page_no, "note": note}


def set_flag_explanation(session: Session, number: str, seq: int, explanation: str) -> None:
    """Keep a flagged page (blank, duplicate) on purpose, with the reason recorded."""
    dossier = editable_dossier(session, number)
    page = _page(_active(session, dossier), seq, dossier["number"])
    with session.change("capture", "page.explain", "page", f"{dossier['number']}#{seq:04d}") as ch:
        ch.conn.execute("UPDATE pages SET note = ? WHERE id = ?", (explanation, page["id"]))
        ch.after = {"note": explanation}


@dataclass
class CompletionReport:
    number: str
    declared: int | None
    scanned: int
    not_scanned: int
    missing: int = 0
    extra: int = 0
    unresolved_flags: list[dict] = field(default_factory=list)
    completed: bool = False
    explained: bool = False  # completed with the page-count difference explained (R09/R10)

    @property
    def ok(self) -> bool:
        return self.completed

    def problems(self) -> list[str]:
        from scanstation.i18n import tr

        out = []
        if self.declared is None:
            out.append(tr("the declared page count (页数) is not in the catalog", "目录中没有登记页数"))
        if self.missing:
            out.append(
                tr(
                    "{n} page(s) missing: {s} images + {ns} not-scanned notes for {d} declared pages",
                    "缺少 {n} 页：登记 {d} 页，现有图像 {s} 页、未扫描说明 {ns} 页",
                    n=self.missing,
                    s=self.scanned,
                    ns=self.not_scanned,
                    d=self.declared,
                )
            )
        if self.extra:
            out.append(
                tr(
                    "{n} page(s) more than declared: {s} images + {ns} notes for {d} declared pages",
                    "比登记页数多 {n} 页：登记 {d} 页，现有图像 {s} 页、未扫描说明 {ns} 页",
                    n=self.extra,
                    s=self.scanned,
                    ns=self.not_scanned,
                    d=self.declared,
                )
            )
        for f in self.unresolved_flags:
            out.append(
                tr(
                    "page {seq} is flagged {flags}: fix it or explain it",
                    "第 {seq} 页被标记为 {flags}：请处理或说明",
                    seq=f["seq"],
                    flags=",".join(f["flags"]),
                )
            )
        return out


def reconcile_count(session: Session, dossier: dict, explained_pages=()) -> CompletionReport:
    pages = _active(session, dossier)
    notes = session.catalog.one(
        "SELECT count(*) n FROM pages WHERE dossier_id = ? AND state = 'not_scanned'", (dossier["id"],)
    )["n"]
    report = CompletionReport(dossier["number"], dossier["declared_pages"], len(pages), notes)
    if dossier["declared_pages"] is not None:
        diff = dossier["declared_pages"] - len(pages) - notes
        report.missing, report.extra = max(diff, 0), max(-diff, 0)
    for p in pages:
        flags = [f for f in json.loads(p["qc_flags"] or "[]") if f in BLOCKING_FLAGS]
        if flags and not p["note"] and p["seq"] not in explained_pages:
            report.unresolved_flags.append({"seq": p["seq"], "flags": flags})
    return report


def _require_files(session: Session, dossier: dict) -> None:
    """Completion needs every page's file in the store: a row without its file is never passed on."""
    store = image_store(session.home)
    missing = [
        p["seq"] for p in _active(session, dossier) if not store.path(dossier["number"], p["file_name"]).is_file()
    ]
    if missing:
        pages = ", ".join(str(s) for s in missing)
        raise Refused(
            "Dossier {n} cannot be completed: the image file of page(s) {pages} is missing. Run scanstation "
            "recover; if a file is still missing, put it back from a backup or scan the page again.",
            "档号 {n} 不能完成：第 {pages} 页的图像文件缺失。请运行 scanstation recover；如仍缺失，"
            "请从备份放回该文件或重新扫描该页。",
            n=dossier["number"],
            pages=pages,
        )


def complete(session: Session, number: str, explanations: dict[str, str] | None = None) -> CompletionReport:
    """R09: complete only when the pages match the declared 页数, or each difference is explained.

    ``explanations``: {"missing": text, "extra": text, "page:N": text}. A flagged page is resolved
    by an explanation for it (kept on purpose) or by fixing it (delete/replace) beforehand.
    """
    explanations = {k: v.strip() for k, v in (explanations or {}).items() if v and v.strip()}
    dossier = editable_dossier(session, number)
    _require_files(session, dossier)
    page_notes: dict[int, str] = {}
    active = None
    for key, text in explanations.items():
        if key.startswith("page:"):
            try:
                seq = int(key[5:])
            except ValueError:
                raise InvalidInput(
                    "Explanation key '{k}' should be page:N.", "说明项“{k}”应为 page:页号。", k=key
                ) from None
            active = active if active is not None else _active(session, dossier)
            _page(active, seq, dossier["number"])  # a page that does not exist is refused before anything is written
            page_notes[seq] = text
        elif key not in ("missing", "extra"):
            raise InvalidInput(
                "Explanation key '{k}' is not known: use missing, extra or page:N.",
                "说明项“{k}”无效：应为 missing、extra 或 page:页号。",
                k=key,
            )
    report = reconcile_count(session, dossier, page_notes)
    if report.scanned == 0:
        raise Refused(
            "Dossier {n} has no scanned page; it cannot be completed (R19).",
            "档号 {n} 没有任何扫描页，不能完成（R19）。",
            n=dossier["number"],
        )
    blocking = (
        bool(report.unresolved_flags)
        or report.declared is None
        or (report.missing and "missing" not in explanations)
        or (report.extra and "extra" not in explanations)
    )
    if blocking:
        return report
    # R09/R10: an explained difference is kept on the dossier for exactly these counts (scanstation.page_count);
    # sealing and the archive's check accept it as resolved
    explanation = ""
    if (report.missing or report.extra) and report.declared is not None:  # declared: checked by blocking
        text = "；".join(explanations[k] for k in ("missing", "extra") if getattr(report, k))
        explanation = page_count.Explanation(
            report.declared, report.scanned, report.not_scanned, text, session.user.name, now_iso()
        ).to_json()
    report.explained = bool(explanation)
    for seq, text in page_notes.items():  # flagged pages kept on purpose, now that completion goes ahead
        set_flag_explanation(session, dossier["number"], seq, text)
    with session.change("capture", "dossier.complete", "dossier", dossier["number"]) as ch:
        ch.conn.execute(
            "UPDATE dossiers SET status = 'completed', completed_by = ?, updated_at = ?,"
            " count_explanation = ? WHERE id = ?",
            (session.user.name, now_iso(), explanation, dossier["id"]),
        )
        ch.before = {"status": dossier["status"]}
        ch.after = {
            "status": "completed",
            "declared": report.declared,
            "scanned": report.scanned,
            "not_scanned": report.not_scanned,
            "missing": report.missing,
            "extra": report.extra,
            "explanations": {k: v for k, v in explanations.items() if not k.startswith("page:")},
        }
    report.completed = True
    return report


# -- inverses: every page operation can be undone until the dossier is completed ----------------
def _latest_kept(session: Session, dossier: dict, state: str) -> dict:
    rows = session.catalog.query(
        "SELECT * FROM pages WHERE dossier_id = ? AND state = ? AND kept_path != ''", (dossier["id"], state)
    )
    if not rows:
        raise NotFound(
            "Dossier {n} has no {state} page to bring back.",
            "档号 {n} 没有可恢复的页面。",
            n=dossier["number"],
            state=state,
        )
    return max(rows, key=lambda r: r["kept_path"].rsplit("-", 1)[-1])  # kept paths end with a time stamp


def _bring_back(ch, number: str, page: dict) -> tuple[str, str]:
    """Plan the kept file's return into the dossier folder under a temporary name."""
    temp = f".restore-{page['id']}-{page['file_name']}"
    ch.conn.execute(
        "UPDATE pages SET state = 'active', seq = -id, file_name = ?, kept_path = '' WHERE id = ?", (temp, page["id"])
    )
    enqueue_ocr(ch.conn, page["id"])
    return page["kept_path"], _rel(number, temp)


def restore_deleted(session: Session, number: str, seq: int) -> None:
    """Undo ``delete``: the most recently deleted page comes back as page ``seq``."""
    dossier = editable_dossier(session, number)
    page = _latest_kept(session, dossier, "deleted")
    pages = _active(session, dossier)
    if not 1 <= seq <= len(pages) + 1:
        raise InvalidInput("Position {s} is outside 1-{n}.", "位置 {s} 超出 1-{n} 的范围。", s=seq, n=len(pages) + 1)
    with session.change("capture", "page.restore", "page", f"{dossier['number']}#{seq:04d}") as ch:
        moves = [_bring_back(ch, dossier["number"], page)]
        restored = dict(page, file_name=moves[0][1].rsplit("/", 1)[-1])
        order = pages[: seq - 1] + [restored] + pages[seq - 1 :]
        moves += _renumber(ch, dossier["number"], dossier["id"], order)
        file_moves.plan(ch.conn, moves)
        ch.before, ch.after = {"kept": page["kept_path"]}, {"seq": seq, "sm3": page["sm3"]}
    _finish(session, moves)


def undo_replace(session: Session, number: str, seq: int) -> None:
    """Undo ``replace``: the original comes back as page ``seq``; the rescan is set aside (kept)."""
    dossier = editable_dossier(session, number)
    original = _latest_kept(session, dossier, "replaced")
    pages = _active(session, dossier)
    rescan = _page(pages, seq, dossier["number"])
    with session.change("capture", "page.unreplace", "page", f"{dossier['number']}#{seq:04d}") as ch:
        keep = _keep_original(dossier["number"], rescan, "rescan-undone")
        ch.conn.execute(
            "UPDATE pages SET state = 'deleted', seq = NULL, kept_path = ? WHERE id = ?", (keep[1], rescan["id"])
        )
        unindex_page(ch.conn, rescan["id"])
        back = _bring_back(ch, dossier["number"], original)
        restored = dict(original, file_name=back[1].rsplit("/", 1)[-1])
        order = [restored if p["id"] == rescan["id"] else p for p in pages]
        moves = [keep, back] + _renumber(ch, dossier["number"], dossier["id"], order)
        file_moves.plan(ch.conn, moves)
        ch.before, ch.after = {"sm3": rescan["sm3"]}, {"sm3": original["sm3"]}
    _finish(session, moves)


def remove_not_scanned(session: Session, number: str, original_page_no: int) -> None:
    """Undo ``mark_not_scanned``: the note is withdrawn (kept in the catalog, no longer counted)."""
    dossier = editable_dossier(session, number)
    note = session.catalog.one(
        "SELECT id, note FROM pages WHERE dossier_id = ? AND state = 'not_scanned'"
        " AND original_page_no = ? ORDER BY id DESC LIMIT 1",
        (dossier["id"], original_page_no),
    )
    if note is None:
        raise NotFound(
            "Dossier {n} has no not-scanned note for page {p}.",
            "档号 {n} 没有第 {p} 页的未扫描说明。",
            n=dossier["number"],
            p=original_page_no,
        )
    with session.change("capture", "page.not_scanned_withdrawn", "dossier", dossier["number"]) as ch:
        ch.conn.execute("UPDATE pages SET state = 'note_withdrawn' WHERE id = ?", (note["id"],))
        ch.before = {"original_page": original_page_no, "note": note["note"]}
