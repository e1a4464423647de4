"""The reading room (阅览): a dossier's catalog record and its pages, shown to a user who may see them.

Who sees what:

* the catalog record (档号, 题名, 年度, 险种, ...) -- anyone with ``catalog.read``; the ID number is
  masked unless the user has ``personal.unmasked`` and asks for it, and then the viewing is audited;
* the page images -- archive staff (``pages.view``) at any time; anyone else only during an approved
  loan of that dossier (``scanstation.custody.lending``), while it is valid.

Every image handed out carries a visible watermark with the viewer's name and the time (and the
loan number when it is seen through a loan), and every view is in the audit trail (``pages.view``,
object ``page``). Images are found by the page's id in the catalog, never by a name from outside.
"""

from __future__ import annotations

import io
from datetime import datetime

from scanstation import id_number, settings
from scanstation.custody import lending, protection
from scanstation.errors import NotFound, Refused

THUMB_WIDTH = 240
VIEW_WIDTH = 1400
FIELDS = (
    "number",
    "fonds_code",
    "year",
    "category",
    "insurance_type",
    "business_stage",
    "retention",
    "title",
    "responsible",
    "date",
    "declared_pages",
    "security_level",
    "volume_no",
    "item_no",
    "box_no",
    "person_name",
    "person_id_number",
    "employer",
    "remarks",
    "status",
)


def _dossier_row(catalog, dossier_id) -> dict:
    try:
        ident = int(dossier_id)
    except (TypeError, ValueError):
        ident = -1
    row = catalog.one("SELECT * FROM dossiers WHERE id = ?", (ident,))
    if row is None or row["status"] == "destroyed":
        raise NotFound("No dossier {id} in this archive.", "本档案室没有编号为 {id} 的案卷。", id=dossier_id)
    return row


def number_of(session, dossier_id) -> str:
    """The 档号 of a dossier id (for a loan request made from the dossier page)."""
    session.require("catalog.read")
    return _dossier_row(session.catalog, dossier_id)["number"]


def current_loan(session, dossier_id: int, now: datetime | None = None) -> dict | None:
    """The user's approved, still valid loan of this dossier, if any (overdue loans are expired first)."""
    moment = now or datetime.now().astimezone()
    lending.expire_overdue(session, moment)
    for loan in session.catalog.query(
        "SELECT * FROM loans WHERE dossier_id = ? AND requester = ? AND state = 'approved' ORDER BY id DESC",
        (dossier_id, session.user.name),
    ):
        if datetime.fromisoformat(loan["approved_at"]) <= moment < datetime.fromisoformat(loan["due_at"]):
            return loan
    return None


def dossier(session, dossier_id, *, unmasked: bool = False, now: datetime | None = None) -> dict:
    """A dossier's record, its pages (ids and numbers) and whether this user may see the images now."""
    session.require("catalog.read")
    if unmasked:
        session.require("personal.unmasked")
    row = _dossier_row(session.catalog, dossier_id)
    record = {f: row[f] for f in FIELDS}
    home = session.home
    record["person_name"] = protection.reveal(home, "person_name", row["person_name"] or "")
    number = protection.reveal(home, "person_id_number", row["person_id_number"] or "")
    rule = settings.id_mask_rule(home)
    record["person_id_number"] = number if unmasked else id_number.mask(number, rule)
    record["remarks"] = row["remarks"] if unmasked else id_number.mask_text(row["remarks"] or "", rule)
    record["id"] = row["id"]
    pages = session.catalog.query(
        "SELECT id, seq, width, height, dpi, format FROM pages WHERE dossier_id = ? "
        "AND state = 'active' AND file_name != '' ORDER BY seq",
        (row["id"],),
    )
    loan = None if session.can("pages.view") else current_loan(session, row["id"], now)
    loans = session.catalog.query(
        "SELECT id, state, requested_at, due_at FROM loans WHERE dossier_id = ? AND requester = ?"
        " ORDER BY id DESC LIMIT 20",
        (row["id"], session.user.name),
    )
    session.log(
        "personal.view" if unmasked else "dossier.view",
        "dossier",
        row["number"],
        {"unmasked": bool(unmasked), "pages": len(pages)},
    )
    return {
        "dossier": record,
        "pages": pages,
        "may_view_pages": session.can("pages.view") or loan is not None,
        "loan": loan,
        "my_loans": loans,
    }


def _page_row(catalog, page_id) -> dict:
    try:
        ident = int(page_id)
    except (TypeError, ValueError):
        ident = -1
    row = catalog.one(
        "SELECT p.id, p.seq, p.file_name, p.sm3, p.dossier_id, d.number, d.status FROM pages p "
        "JOIN dossiers d ON d.id = p.dossier_id WHERE p.id = ? AND p.state = 'active' "
        "AND p.file_name != ''",
        (ident,),
    )
    if row is None or row["status"] == "destroyed":
        raise NotFound("No page {id} in this archive.", "本档案室没有编号为 {id} 的页面。", id=page_id)
    return row


def page(session, page_id) -> dict:
    """Which dossier and page number a page id is, with its neighbours (for the page viewer)."""
    session.require("catalog.read")
    row = _page_row(session.catalog, page_id)
    seqs = session.catalog.query(
        "SELECT id, seq FROM pages WHERE dossier_id = ? AND state = 'active' AND file_name != '' ORDER BY seq",
        (row["dossier_id"],),
    )
    ids = [r["id"] for r in seqs]
    at = ids.index(row["id"])
    return {
        "id": row["id"],
        "seq": row["seq"],
        "dossier_id": row["dossier_id"],
        "number": row["number"],
        "pages": len(ids),
        "previous": ids[at - 1] if at > 0 else None,
        "next": ids[at + 1] if at + 1 < len(ids) else None,
    }


def page_image(session, page_id, *, thumbnail: bool = False, now: datetime | None = None) -> bytes:
    """The page as a watermarked JPEG for this user, if they may see it now; the view is audited."""
    from PIL import Image, UnidentifiedImageError

    session.require("catalog.read")
    moment = now or datetime.now().astimezone()
    row = _page_row(session.catalog, page_id)
    loan = None
    if not session.can("pages.view"):
        loan = current_loan(session, row["dossier_id"], moment)
        if loan is None:
            raise Refused(
                "User '{u}' may see the pages of {n} only during an approved loan. Request a loan and wait "
                "for the archive staff's approval.",
                "用户“{u}”只能在借阅获批的有效期内查看 {n} 的页面。请先提出借阅申请，待档案室批准。",
                u=session.user.name,
                n=row["number"],
            )
    store = protection.page_files(session.home)
    try:
        data = store.read_page(row)
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            width = THUMB_WIDTH if thumbnail else VIEW_WIDTH
            if img.width > width:
                img = img.resize((width, max(1, round(img.height * width / img.width))), Image.LANCZOS)
            lines = [session.user.name, moment.strftime("%Y-%m-%d %H:%M")]
            lines += [f"借阅单 {loan['id']}"] if loan else ["档案室阅览"]
            marked = lending.watermark(img, lines)
    except FileNotFoundError:
        raise Refused(
            "Page {seq} of {n} is missing from the store; run: scanstation fixity check",
            "{n} 第 {seq} 页在存储中缺失；请执行：scanstation fixity check",
            seq=row["seq"],
            n=row["number"],
        ) from None
    except (UnidentifiedImageError, OSError) as exc:
        raise Refused(
            "Page {seq} of {n} cannot be decoded ({error}); run: scanstation fixity check",
            "{n} 第 {seq} 页无法解码（{error}）；请执行：scanstation fixity check",
            seq=row["seq"],
            n=row["number"],
            error=str(exc),
        ) from exc
    out = io.BytesIO()
    marked.save(out, "JPEG", quality=80 if thumbnail else 88)
    session.log(
        "pages.view",
        "page",
        f"{row['number']}-{row['seq']:04d}",
        {
            "page_id": row["id"],
            "thumbnail": thumbnail,
            "loan": loan["id"] if loan else None,
            "watermark": " ".join(lines),
        },
    )
    return out.getvalue()


def loans_view(session, now: datetime | None = None) -> list[dict]:
    """Loans this user may see (their own; archive staff see all), with the dossier id for links."""
    loans = lending.list_loans(session, now=now)
    return [dict(loan, state_zh=lending.STATE_ZH.get(loan["state"], loan["state"])) for loan in reversed(loans)]


__all__ = ["current_loan", "dossier", "loans_view", "number_of", "page", "page_image"]
