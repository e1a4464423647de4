"""PDF reports for the station's managers: workload per clerk and day, QC defect statistics, the
retention-due list, destruction registers and the lending register.

Figures come straight from the catalog: pages (operator, capture time, QC flags) and the audit
trail (QC decisions, rescans, completions). Every report written is logged.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

from scanstation.custody import destruction, lending, retention_due
from scanstation.custody.audit_export import time_range
from scanstation.custody.pdf import Document, Section, render
from scanstation.errors import InvalidInput
from scanstation.home import now_iso
from scanstation.storage.files import write_atomic

RESCAN_ACTIONS = "(action LIKE '%rescan%' OR action LIKE 'page.replace%')"
COMPLETE_ACTIONS = "(action LIKE 'dossier.complete%')"


def _range_sql(column: str, since, until) -> tuple[str, list]:
    low, high = time_range(since, until)
    sql, params = "", []
    if low:
        sql += f" AND {column} >= ?"
        params.append(low)
    if high:
        sql += f" AND {column} < ?"
        params.append(high)
    return sql, params


def _json(text):
    try:
        return json.loads(text) if text else None
    except (TypeError, ValueError):
        return None


def _flag_name(item):
    """A flag's name: the string itself, or an object's ``flag`` (else ``name``, else its JSON)."""
    if isinstance(item, dict):
        for key in ("flag", "name"):
            if item.get(key) is not None:
                return item[key]
    if isinstance(item, (str, int, float)) and not isinstance(item, bool):
        return item
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"))


def _facts(session, title_range: str) -> list[tuple[str, str]]:
    return [
        ("全宗号", session.home.fonds),
        ("站点", session.home.station),
        ("统计范围", title_range),
        ("制表人", session.user.name),
        ("制表时间", now_iso()),
    ]


def _range_text(since, until) -> str:
    return f"{since or '开始'} 至 {until or '现在'}"


def workload(session, since=None, until=None, **_) -> Document:
    catalog = session.catalog
    where, params = _range_sql("capture_time", since, until)
    per_day: dict[tuple[str, str], dict] = {}
    for r in catalog.query(
        "SELECT operator, substr(capture_time, 1, 10) AS day, count(*) AS pages, count(DISTINCT dossier_id) AS"
        f" dossiers FROM pages WHERE operator != '' AND capture_time != ''{where} GROUP BY operator, day",
        params,
    ):
        per_day[(r["day"], r["operator"])] = {
            "pages": r["pages"],
            "dossiers": r["dossiers"],
            "completed": 0,
            "rescans": 0,
        }
    where, params = _range_sql("ts", since, until)
    for column, condition in (("rescans", RESCAN_ACTIONS), ("completed", COMPLETE_ACTIONS)):
        for r in catalog.query(
            f"SELECT user, substr(ts, 1, 10) AS day, count(*) AS n FROM audit_log WHERE {condition}"
            f"{where} GROUP BY user, day",
            params,
        ):
            entry = per_day.setdefault((r["day"], r["user"]), {"pages": 0, "dossiers": 0, "completed": 0, "rescans": 0})
            entry[column] = r["n"]
    rows = [
        [day, user, v["pages"], v["dossiers"], v["completed"], v["rescans"]]
        for (day, user), v in sorted(per_day.items())
    ]
    totals: dict[str, list[int]] = {}
    for _, user, pages, dossiers, completed, rescans in rows:
        t = totals.setdefault(user, [0, 0, 0, 0, 0])
        t[0] += 1
        t[1] += pages
        t[2] += dossiers
        t[3] += completed
        t[4] += rescans
    total_rows = [[user, *t, f"{t[1] / t[0]:.0f}"] for user, t in sorted(totals.items())]
    return Document(
        title="扫描工作量统计",
        facts=_facts(session, _range_text(since, until)),
        sections=[
            Section(
                "按人员汇总",
                ["人员", "工作天数", "扫描页数", "涉及案卷", "完成案卷", "重扫次数", "日均页数"],
                total_rows,
            ),
            Section(
                "按日明细",
                ["日期", "人员", "扫描页数", "涉及案卷", "完成案卷", "重扫次数"],
                rows,
                [1.4, 1.6, 1, 1, 1, 1],
            ),
        ],
        footer=f"ScanStation · {session.home.fonds} · {session.home.station} · 工作量统计",
    )


def qc(session, since=None, until=None, **_) -> Document:
    catalog = session.catalog
    where, params = _range_sql("p.capture_time", since, until)
    # QC flags are JSON kept as text; they are read here rather than with SQLite's JSON functions, so
    # that the report is the same on the archive's PostgreSQL catalog
    pages = catalog.query(f"SELECT p.dossier_id, p.qc_flags FROM pages p WHERE p.state = 'active'{where}", params)
    counted: dict[str, list] = {}
    flagged = 0
    for page in pages:
        page_flags = _json(page["qc_flags"])
        if isinstance(page_flags, list) and page_flags:
            flagged += 1
        items = (
            page_flags.values() if isinstance(page_flags, dict) else page_flags if isinstance(page_flags, list) else []
        )
        for item in items:
            name = _flag_name(item)
            entry = counted.setdefault(name, [0, set()])
            entry[0] += 1
            entry[1].add(page["dossier_id"])
    totals = {"pages": len(pages), "flagged": flagged}
    flags = [
        {"flag": name, "pages": n, "dossiers": len(ids)}
        for name, (n, ids) in sorted(counted.items(), key=lambda kv: (-kv[1][0], str(kv[0])))
    ]
    pages_total = totals["pages"] or 0
    flag_rows = [
        [f["flag"], f["pages"], f["dossiers"], f"{100 * f['pages'] / pages_total:.2f}%" if pages_total else "-"]
        for f in flags
    ]
    where, params = _range_sql("ts", since, until)
    decisions = catalog.query(
        "SELECT action, user, count(*) AS n, count(DISTINCT object_id) AS objects FROM audit_log"
        f" WHERE action LIKE 'qc.%'{where} GROUP BY action, user ORDER BY action, user",
        params,
    )
    counted_reasons: dict[str, int] = {}
    for entry in catalog.query(f"SELECT after FROM audit_log WHERE action LIKE 'qc.%'{where}", params):
        after = _json(entry["after"])
        reason = after.get("reason") if isinstance(after, dict) else None
        if reason is not None:
            counted_reasons[reason] = counted_reasons.get(reason, 0) + 1
    reasons = [{"reason": r, "n": n} for r, n in sorted(counted_reasons.items(), key=lambda kv: (-kv[1], str(kv[0])))]
    facts = _facts(session, _range_text(since, until)) + [
        ("页面总数", str(pages_total)),
        ("有质检标记的页面", str(totals["flagged"] or 0)),
        ("缺陷率", f"{100 * (totals['flagged'] or 0) / pages_total:.2f}%" if pages_total else "-"),
    ]
    return Document(
        title="质检缺陷统计",
        facts=facts,
        sections=[
            Section("缺陷类型", ["缺陷标记", "页数", "案卷数", "占全部页面"], flag_rows, [3, 1, 1, 1]),
            Section(
                "质检决定",
                ["操作", "质检员", "次数", "涉及对象"],
                [[d["action"], d["user"], d["n"], d["objects"]] for d in decisions],
                [3, 2, 1, 1],
            ),
            Section("退回原因", ["原因", "次数"], [[r["reason"], r["n"]] for r in reasons], [5, 1]),
        ],
        footer=f"ScanStation · {session.home.fonds} · {session.home.station} · 质检统计",
    )


def retention(session, as_of=None, **_) -> Document:
    as_of = retention_due.parse_date(as_of, "as-of date", "截止日期") if as_of else date.today()
    items = retention_due.due(session.catalog, as_of, fonds=session.home.fonds)
    rows = [
        [i + 1, d.number, d.title, d.year, d.retention, d.expiry, d.status, d.pages, d.register_no]
        for i, d in enumerate(items)
    ]
    return Document(
        title="保管期限到期档案清单",
        facts=_facts(session, f"截至 {as_of.isoformat()}") + [("到期案卷", str(len(items)))],
        sections=[
            Section(
                "到期清单",
                ["序号", "档号", "题名", "年度", "保管期限", "到期日期", "状态", "页数", "销毁清册"],
                rows,
                [0.6, 4, 4.5, 0.8, 1, 1.4, 1.2, 0.7, 2.4],
            )
        ],
        footer=f"ScanStation · {session.home.fonds} · {session.home.station} · 到期清单",
        landscape=True,
    )


def destruction_report(session, since=None, until=None, **_) -> Document:
    where, params = _range_sql("proposed_at", since, until)
    ids = {r["id"] for r in session.catalog.query(f"SELECT id FROM destruction_registers WHERE 1 = 1{where}", params)}
    rows = [
        [
            r["register_no"],
            destruction.STATE_ZH.get(r["state"], r["state"]),
            r["as_of"],
            r["proposed_by"],
            r["decided_by"],
            r["supervisors"] or "",
            r["method"],
            r["executed_on"],
            r["dossiers"],
            r["pages"],
            r["pdf_path"],
        ]
        for r in destruction.list_registers(session.catalog)
        if r["id"] in ids
    ]
    return Document(
        title="档案销毁登记",
        facts=_facts(session, _range_text(since, until)),
        sections=[
            Section(
                "销毁清册",
                [
                    "清册编号",
                    "状态",
                    "到期截止",
                    "提出人",
                    "批准人",
                    "监销人",
                    "销毁方式",
                    "销毁日期",
                    "案卷数",
                    "页数",
                    "清册文件",
                ],
                rows,
                [2.4, 1.3, 1.3, 1.2, 1.2, 2, 1.4, 1.3, 0.8, 0.8, 3.5],
            )
        ],
        footer=f"ScanStation · {session.home.fonds} · {session.home.station} · 销毁登记",
        landscape=True,
    )


def lending_report(session, since=None, until=None, **_) -> Document:
    lending.expire_overdue(session)
    where, params = _range_sql("requested_at", since, until)
    loans = session.catalog.query(f"SELECT * FROM loans WHERE 1 = 1{where} ORDER BY id", params)
    rows = [
        [
            l["id"],
            l["number"],
            l["requester"],
            l["reason"],
            l["days"],
            lending.STATE_ZH.get(l["state"], l["state"]),
            l["approved_by"],
            l["approved_at"][:16],
            l["due_at"][:16],
            l["returned_at"][:16],
            l["exports"],
        ]
        for l in loans
    ]
    return Document(
        title="档案借阅登记",
        facts=_facts(session, _range_text(since, until)) + [("借阅单数", str(len(loans)))],
        sections=[
            Section(
                "借阅登记",
                [
                    "单号",
                    "档号",
                    "借阅人",
                    "理由",
                    "天数",
                    "状态",
                    "批准人",
                    "批准时间",
                    "到期时间",
                    "归还时间",
                    "导出次数",
                ],
                rows,
                [0.6, 3.6, 1.1, 2.4, 0.6, 1, 1.1, 1.6, 1.6, 1.6, 0.8],
            )
        ],
        footer=f"ScanStation · {session.home.fonds} · {session.home.station} · 借阅登记",
        landscape=True,
    )


REPORTS = {
    "workload": workload,
    "qc": qc,
    "retention": retention,
    "destruction": destruction_report,
    "lending": lending_report,
}


def make(session, kind: str, out: Path, since=None, until=None, as_of=None) -> dict:
    """Write one report as PDF and log it."""
    session.require("report")
    if kind not in REPORTS:
        raise InvalidInput(
            "Unknown report '{k}'; reports: {all}.", "未知报表“{k}”；可选：{all}。", k=kind, all=", ".join(REPORTS)
        )
    data = render(REPORTS[kind](session, since=since, until=until, as_of=as_of))
    out = Path(out)
    write_atomic(out, data)
    digest = hashlib.sha256(data).hexdigest()
    with session.change(None, "report.export", "report", kind) as ch:
        ch.after = {"report": kind, "since": since, "until": until, "as_of": as_of, "file": out.name, "sha256": digest}
    return {"report": kind, "file": str(out), "bytes": len(data), "sha256": digest}


__all__ = ["REPORTS", "make"]
