"""Quality control: the automatic page flags (R24a) and the manual review by another user (R24b).

The QC inspector must not be the clerk who scanned or completed the dossier (R36). A page may be
passed or rejected with a reason; a rescan request sends the dossier back to the clerk, who
replaces the page (numbering kept) and completes it again; approval needs every rejection resolved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from scanstation.capture import STATUS_ZH, find_dossier
from scanstation.custody.duties import assert_may_qc
from scanstation.errors import InvalidInput, NotFound, Refused
from scanstation.home import now_iso
from scanstation.i18n import tr
from scanstation.service import Session

# Kofax-style rejection reasons: code -> (English, Chinese)
QC_REASONS = {
    "missing_page": ("missing page", "缺页"),
    "poorly_scanned": ("poorly scanned", "扫描质量差"),
    "skewed": ("skewed", "歪斜"),
    "wrong_orientation": ("wrong orientation", "方向错误"),
    "wrong_dossier": ("wrong dossier", "错档"),
    "blank": ("blank page", "空白页"),
    "duplicate": ("duplicate page", "重复页"),
    "other": ("other", "其他"),
}

FLAG_NAMES = {
    "skew": ("skew > 3°", "歪斜 > 3°"),
    "blank": ("blank", "空白"),
    "duplicate": ("duplicate", "重复"),
    "dark": ("too dark", "过暗"),
    "light": ("too light", "过亮"),
    "low_dpi": ("below 200 dpi", "低于 200 dpi"),
}


def flag_label(flag: str) -> str:
    en, zh = FLAG_NAMES.get(flag, (flag, flag))
    return tr(en, zh)


def reason_label(code: str) -> str:
    en, zh = QC_REASONS.get(code, (code, code))
    return tr(en, zh)


@dataclass
class PageReport:
    seq: int
    file_name: str
    flags: list[str]
    metrics: dict
    decision: str = ""
    reason: str = ""


def report(session: Session, number: str) -> dict:
    """`scanstation qc report 档号`: every page's automatic flags and the manual decisions so far."""
    session.require("catalog.read")
    dossier = find_dossier(session, number)
    pages = session.catalog.query(
        "SELECT id, seq, file_name, qc_flags, processing_log, note, dpi FROM pages"
        " WHERE dossier_id = ? AND state = 'active' ORDER BY seq",
        (dossier["id"],),
    )
    decisions = {}
    for d in session.catalog.query(
        "SELECT page_id, decision, reason FROM qc_decisions WHERE dossier_id = ? AND page_id IS NOT NULL ORDER BY id",
        (dossier["id"],),
    ):
        decisions[d["page_id"]] = d
    out = []
    for p in pages:
        log = json.loads(p["processing_log"] or "[]")
        metrics = {}
        for step in log:
            for key in ("angle", "residual", "skew_deg", "blank_score", "darkness", "mean", "similarity"):
                if key in step:
                    metrics[f"{step.get('step')}.{key}"] = step[key]
        d = decisions.get(p["id"], {})
        out.append(
            {
                "seq": p["seq"],
                "file": p["file_name"],
                "flags": json.loads(p["qc_flags"] or "[]"),
                "dpi": p["dpi"],
                "note": p["note"],
                "metrics": metrics,
                "decision": d.get("decision", ""),
                "reason": d.get("reason", ""),
            }
        )
    counts: dict[str, int] = {}
    for p in out:
        for f in p["flags"]:
            counts[f] = counts.get(f, 0) + 1
    return {
        "number": dossier["number"],
        "status": dossier["status"],
        "declared_pages": dossier["declared_pages"],
        "pages": out,
        "flag_counts": counts,
        "flagged_pages": sum(1 for p in out if p["flags"]),
    }


def queue(session: Session, low_confidence_only: bool = False) -> list[dict]:
    """Completed dossiers waiting for QC, excluding the inspector's own work. ``low_confidence_pages``
    lists the pages whose OCR confidence is below the setting ``ocr.low_confidence`` (text that may not
    be found by search); ``low_confidence_only`` keeps only the dossiers that have such pages."""
    from scanstation import settings

    session.require("qc.decide")
    threshold = float(settings.get(session.home, "ocr.low_confidence"))
    rows = session.catalog.query(
        "SELECT d.id, d.number, d.title, d.declared_pages, d.completed_by, d.scanned_by, d.updated_at, "
        "(SELECT group_concat(p.seq) FROM pages p JOIN page_text t ON t.page_id = p.id WHERE p.dossier_id = d.id "
        " AND p.state = 'active' AND t.status = 'done' AND t.confidence < ?) AS low_confidence_pages FROM dossiers d"
        " WHERE d.status = 'completed' AND d.scanned_by != ? AND d.completed_by != ? ORDER BY d.updated_at",
        (threshold, session.user.name, session.user.name),
    )
    for row in rows:
        row["low_confidence_pages"] = sorted(int(s) for s in (row["low_confidence_pages"] or "").split(",") if s)
    return [r for r in rows if r["low_confidence_pages"]] if low_confidence_only else rows


def _for_qc(session: Session, number: str) -> dict:
    session.require("qc.decide")
    dossier = find_dossier(session, number)
    if dossier["status"] != "completed":
        raise Refused(
            "Dossier {n} is {state}; only completed dossiers are reviewed.",
            "档号 {n} 当前状态为“{state_zh}”；只有已完成的案卷才能质检。",
            n=dossier["number"],
            state=dossier["status"],
            state_zh=STATUS_ZH.get(dossier["status"], dossier["status"]),
        )
    assert_may_qc(session, dossier)
    return dossier


def _page_id(session: Session, dossier: dict, seq: int) -> int:
    row = session.catalog.one(
        "SELECT id FROM pages WHERE dossier_id = ? AND seq = ? AND state = 'active'", (dossier["id"], seq)
    )
    if row is None:
        raise NotFound("Dossier {n} has no page {seq}.", "档号 {n} 没有第 {seq} 页。", n=dossier["number"], seq=seq)
    return row["id"]


def _check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Give a reason ({codes}).", "请给出原因（{codes}）。", codes=", ".join(QC_REASONS))
    return reason


def page_decision(session: Session, number: str, seq: int, passed: bool, reason: str = "") -> None:
    dossier = _for_qc(session, number)
    page_id = _page_id(session, dossier, seq)
    if not passed:
        reason = _check_reason(reason)
    with session.change(
        "qc.decide", "qc.page_pass" if passed else "qc.page_reject", "page", f"{dossier['number']}#{seq:04d}"
    ) as ch:
        ch.conn.execute(
            "INSERT INTO qc_decisions(dossier_id, page_id, decision, reason, user, ts) VALUES (?, ?, ?, ?, ?, ?)",
            (dossier["id"], page_id, "pass" if passed else "reject", reason, session.user.name, now_iso()),
        )
        ch.after = {"decision": "pass" if passed else "reject", "reason": reason}


def request_rescan(session: Session, number: str, seq: int, reason: str) -> None:
    """Send the dossier back to the clerk to replace page ``seq`` (numbering is kept)."""
    dossier = _for_qc(session, number)
    page_id = _page_id(session, dossier, seq)
    reason = _check_reason(reason)
    with session.change("qc.decide", "qc.rescan_request", "page", f"{dossier['number']}#{seq:04d}") as ch:
        ch.conn.execute(
            "INSERT INTO qc_decisions(dossier_id, page_id, decision, reason, user, ts) VALUES (?, ?, 'rescan', ?, ?, ?)",
            (dossier["id"], page_id, reason, session.user.name, now_iso()),
        )
        ch.conn.execute(
            "UPDATE dossiers SET status = 'qc_rejected', updated_at = ? WHERE id = ?", (now_iso(), dossier["id"])
        )
        ch.after = {"status": "qc_rejected", "page": seq, "reason": reason}


def reject(session: Session, number: str, reasons: list[str]) -> None:
    dossier = _for_qc(session, number)
    text = "; ".join(_check_reason(r) for r in reasons) if reasons else _check_reason("")
    with session.change("qc.decide", "qc.reject", "dossier", dossier["number"]) as ch:
        ch.conn.execute(
            "INSERT INTO qc_decisions(dossier_id, decision, reason, user, ts) VALUES (?, 'reject_dossier', ?, ?, ?)",
            (dossier["id"], text, session.user.name, now_iso()),
        )
        ch.conn.execute(
            "UPDATE dossiers SET status = 'qc_rejected', updated_at = ? WHERE id = ?", (now_iso(), dossier["id"])
        )
        ch.before, ch.after = {"status": "completed"}, {"status": "qc_rejected", "reasons": text}


def approve(session: Session, number: str) -> None:
    dossier = _for_qc(session, number)
    open_rejects = session.catalog.query(
        "SELECT q.decision, p.seq, q.reason FROM qc_decisions q LEFT JOIN pages p ON p.id = q.page_id"
        " WHERE q.dossier_id = ? AND q.decision IN ('reject', 'rescan') AND q.resolved = 0"
        " AND q.id = (SELECT max(id) FROM qc_decisions q2 WHERE q2.page_id = q.page_id)",
        (dossier["id"],),
    )
    if open_rejects:
        raise Refused(
            "Dossier {n} still has rejected pages ({pages}); request rescans or pass them first.",
            "档号 {n} 仍有未处理的不合格页（{pages}）；请先要求重扫或判为合格。",
            n=dossier["number"],
            pages=", ".join(str(r["seq"]) for r in open_rejects),
        )
    with session.change("qc.decide", "qc.approve", "dossier", dossier["number"]) as ch:
        ch.conn.execute(
            "INSERT INTO qc_decisions(dossier_id, decision, user, ts) VALUES (?, 'approve', ?, ?)",
            (dossier["id"], session.user.name, now_iso()),
        )
        ch.conn.execute(
            "UPDATE dossiers SET status = 'approved', qc_by = ?, updated_at = ? WHERE id = ?",
            (session.user.name, now_iso(), dossier["id"]),
        )
        ch.before, ch.after = {"status": "completed"}, {"status": "approved"}


# -- what each role needs to see of the other's words (the clerk's explanation, QC's reasons) ---------
def _last_completion(session: Session, number: str) -> dict | None:
    row = session.catalog.one(
        "SELECT ts, user, after FROM audit_log WHERE action = 'dossier.complete'"
        " AND object_type = 'dossier' AND object_id = ? ORDER BY id DESC LIMIT 1",
        (number,),
    )
    return row


def clerk_explanations(session: Session, number: str) -> dict:
    """What the clerk wrote when completing: the page-count explanations (R09/R10) of the last completion
    and the notes on pages kept although flagged. Shown to the QC inspector."""
    session.require("catalog.read")
    dossier = find_dossier(session, number)
    out: dict = {"by": "", "missing": "", "extra": "", "pages": []}
    last = _last_completion(session, dossier["number"])
    if last:
        try:
            after = json.loads(last["after"] or "{}")
        except ValueError:
            after = {}
        explained = after.get("explanations") or {}
        out.update(by=last["user"], missing=explained.get("missing", ""), extra=explained.get("extra", ""))
    out["pages"] = [
        {"seq": r["seq"], "note": r["note"]}
        for r in session.catalog.query(
            "SELECT seq, note FROM pages WHERE dossier_id = ? AND state = 'active' AND note != '' ORDER BY seq",
            (dossier["id"],),
        )
    ]
    return out


def return_reasons(session: Session, number: str) -> list[dict]:
    """The rejections, rescan requests and returns of the latest QC round of a dossier (since it was
    last completed), oldest first: {seq (None for the dossier), decision, reason, label, user, ts}."""
    session.require("catalog.read")
    dossier = find_dossier(session, number)
    last = _last_completion(session, dossier["number"])
    rows = session.catalog.query(
        "SELECT p.seq, q.decision, q.reason, q.user, q.ts FROM qc_decisions q LEFT JOIN pages p ON p.id = q.page_id"
        " WHERE q.dossier_id = ? AND q.decision IN ('reject', 'rescan', 'reject_dossier') AND q.ts >= ?"
        " ORDER BY q.id",
        (dossier["id"], last["ts"] if last else ""),
    )
    out = []
    for r in rows:
        text = r["reason"] or ""
        code, _, note = text.partition(":")
        label = reason_label(code.strip()) if code.strip() in QC_REASONS else ""
        out.append({**r, "label": (label + ("：" + note.strip() if note.strip() else "")) if label else text})
    return out


def returned(session: Session) -> list[dict]:
    """Dossiers QC sent back to the clerks and not completed again yet, each with its reasons."""
    session.require("catalog.read")
    rows = session.catalog.query(
        "SELECT number, title, updated_at FROM dossiers WHERE status = 'qc_rejected' ORDER BY updated_at"
    )
    return [{**r, "reasons": return_reasons(session, r["number"])} for r in rows]
