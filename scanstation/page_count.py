"""R09/R10: the one rule for a dossier's page count, shared by completion, sealing and the archive's check.

A dossier's images plus its not-scanned notes (R10) must equal the declared 页数 (R09), or the
difference must be *explained*: completion "with explanation" (按以上说明完成) records who explained
what, and for exactly which counts. An explanation stands only for the counts it was given for:
any later change of the pages, the notes or the 页数 (a correction) makes the difference
unresolved again, and the clerk must complete the dossier anew.

The explanation is kept on the dossier (``dossiers.count_explanation``, JSON), travels in the
transfer package (the dossier's metadata ``著录项/页数说明`` with the counts as attributes, and the
``页数说明`` of 文件目录.xml), is listed in the transfer register, and is reported by the
four-property check as *explained*, not as missing pages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from scanstation.storage.migrations import register as register_migrations

MATCHES = "matches"  # images + notes == declared
EXPLAINED = "explained"  # a difference, explained for exactly these counts
UNRESOLVED = "unresolved"  # a difference without a valid explanation
UNDECLARED = "undeclared"  # no 页数 in the catalog

# Migration 90: the explanation on the dossier; dossiers completed with an explanation before
# this column existed get theirs from the audit entry of their completion (same counts kept).
MIGRATION = (
    90,
    "page count explanation on the dossier (R09/R10)",
    """
ALTER TABLE dossiers ADD COLUMN count_explanation TEXT NOT NULL DEFAULT '';
UPDATE dossiers SET count_explanation = coalesce((
    SELECT json_object(
        'declared', json_extract(a.after, '$.declared'),
        'images', json_extract(a.after, '$.scanned'),
        'not_scanned', json_extract(a.after, '$.not_scanned'),
        'missing', json_extract(a.after, '$.missing'),
        'extra', json_extract(a.after, '$.extra'),
        'text', trim(coalesce(json_extract(a.after, '$.explanations.missing'), '') || ' ' ||
                     coalesce(json_extract(a.after, '$.explanations.extra'), '')),
        'by', a.user, 'at', a.ts)
    FROM audit_log a
    WHERE a.action = 'dossier.complete' AND a.object_type = 'dossier' AND a.object_id = dossiers.number
      AND json_valid(a.after)
      AND (coalesce(json_extract(a.after, '$.missing'), 0) > 0 OR coalesce(json_extract(a.after, '$.extra'), 0) > 0)
    ORDER BY a.id DESC LIMIT 1), '')
WHERE status IN ('completed', 'approved', 'batched', 'sent', 'transferred');
""",
)
register_migrations(__name__, MIGRATION)


@dataclass(frozen=True)
class Explanation:
    """A page-count difference explained by a person, for these counts."""

    declared: int
    images: int
    not_scanned: int
    text: str
    by: str = ""
    at: str = ""

    @property
    def missing(self) -> int:
        return max(self.declared - self.images - self.not_scanned, 0)

    @property
    def extra(self) -> int:
        return max(self.images + self.not_scanned - self.declared, 0)

    def to_json(self) -> str:
        return json.dumps(
            {
                "declared": self.declared,
                "images": self.images,
                "not_scanned": self.not_scanned,
                "missing": self.missing,
                "extra": self.extra,
                "text": self.text,
                "by": self.by,
                "at": self.at,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str | None) -> Explanation | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(
                int(data["declared"]),
                int(data["images"]),
                int(data["not_scanned"]),
                str(data.get("text") or "").strip(),
                str(data.get("by") or ""),
                str(data.get("at") or ""),
            )
        except (ValueError, TypeError, KeyError):
            return None

    def covers(self, declared, images: int, not_scanned: int) -> bool:
        """True when this explanation was given for exactly these counts (and says something)."""
        return bool(self.text) and (self.declared, self.images, self.not_scanned) == (declared, images, not_scanned)


def status(declared, images: int, not_scanned: int, explanation: Explanation | None) -> str:
    """The rule: MATCHES, EXPLAINED, UNRESOLVED or UNDECLARED."""
    if declared is None:
        return UNDECLARED
    if declared == images + not_scanned:
        return MATCHES
    if explanation is not None and explanation.covers(declared, images, not_scanned):
        return EXPLAINED
    return UNRESOLVED


def is_resolved(declared, images: int, not_scanned: int, explanation: Explanation | None) -> bool:
    return status(declared, images, not_scanned, explanation) in (MATCHES, EXPLAINED)


def of_dossier(row: dict) -> Explanation | None:
    return Explanation.from_json(row.get("count_explanation"))


def describe(e: Explanation) -> tuple[str, str]:
    """(English, Chinese) one-line account of an explained difference."""
    if e.missing:
        return (
            f"{e.declared} pages declared, {e.images} images + {e.not_scanned} not-scanned notes: "
            f"{e.missing} missing, explained by {e.by or '?'}: {e.text}",
            f"登记 {e.declared} 页，图像 {e.images} 页、未扫描说明 {e.not_scanned} 页：少 {e.missing} 页，"
            f"已由 {e.by or '?'} 说明：{e.text}",
        )
    return (
        f"{e.declared} pages declared, {e.images} images + {e.not_scanned} not-scanned notes: "
        f"{e.extra} more, explained by {e.by or '?'}: {e.text}",
        f"登记 {e.declared} 页，图像 {e.images} 页、未扫描说明 {e.not_scanned} 页：多 {e.extra} 页，"
        f"已由 {e.by or '?'} 说明：{e.text}",
    )
