"""Cover sheets and split runs: ``coversheet``, ``split held|assign|resume|runs``, and the ``--split``
forms of ``scan``, ``import`` and ``watch`` (their options are declared with those commands)."""

from __future__ import annotations

import sys
from pathlib import Path

from scanstation.i18n import tr


def register(sub) -> None:
    p = sub.add_parser(
        "coversheet", help=tr("print 档号 cover sheets (PDF) for split scanning", "打印档号分隔页（PDF），用于批量扫描")
    )
    p.add_argument("numbers", nargs="*", metavar="档号")
    p.add_argument("--year", type=int, help=tr("every capturable dossier of this year", "该年度所有可扫描的案卷"))
    p.add_argument(
        "--status",
        choices=["not_scanned", "scanning", "qc_rejected", "capturable"],
        help=tr("with --year: only dossiers in this state", "与 --year 一起：仅限该状态的案卷"),
    )
    p.add_argument("--out", required=True, metavar="FILE.pdf")
    p.set_defaults(run=cmd_coversheet)

    split = sub.add_parser(
        "split", help=tr("split runs: held pages and their assignment", "批量扫描：暂存页面及其处理")
    ).add_subparsers(dest="split_cmd", metavar="ACTION")
    p = split.add_parser("runs", help=tr("recent split runs", "最近的批量扫描"))
    p.set_defaults(run=cmd_split_runs)
    p = split.add_parser("held", help=tr("pages held by stopped runs", "被停止的批量扫描暂存的页面"))
    p.add_argument("run_id", type=int, nargs="?", metavar="RUN")
    p.set_defaults(run=cmd_split_held)
    p = split.add_parser(
        "assign",
        help=tr(
            "file the held pages of a run (up to the next sheet) into a dossier",
            "将批次暂存的页面（到下一张分隔页为止）存入案卷",
        ),
    )
    p.add_argument("run_id", type=int, metavar="RUN")
    p.add_argument("number", metavar="档号")
    p.add_argument("--profile")
    p.set_defaults(run=cmd_split_assign)
    p = split.add_parser(
        "resume", help=tr("run the held pages through the splitter again", "重新对暂存页面进行分隔处理")
    )
    p.add_argument("run_id", type=int, metavar="RUN")
    p.add_argument(
        "--into",
        metavar="档号",
        help=tr("pages before the first sheet belong to this dossier", "第一张分隔页之前的页面属于该案卷"),
    )
    p.add_argument("--profile")
    p.set_defaults(run=cmd_split_resume)


def split_options(p) -> None:
    """The options a command gets for splitting a stack (called by scan, import and watch)."""
    p.add_argument(
        "--split",
        action="store_true",
        help=tr("one stack of many dossiers, split at the cover sheets", "一叠多个案卷，按分隔页拆分"),
    )
    p.add_argument(
        "--into",
        metavar="档号",
        help=tr(
            "with --split: pages before the first sheet belong to this dossier",
            "与 --split 一起：第一张分隔页之前的页面属于该案卷",
        ),
    )
    p.add_argument(
        "--labels",
        action="store_true",
        help=tr(
            "with --split: a 档号 Code 128 on a first page opens its dossier",
            "与 --split 一起：首页上的档号条码（Code 128）也可开启案卷",
        ),
    )


def cmd_coversheet(args, ctx) -> int:
    from scanstation.coversheet.sheet import print_cover_sheets

    done = print_cover_sheets(ctx.session(), Path(args.out), args.numbers, args.year, args.status)
    ctx.emit(
        done, tr("{n} cover sheet(s) written to {f}.", "已生成 {n} 张分隔页：{f}。", n=done["sheets"], f=done["file"])
    )
    return 0


def _print_event(ctx, event: dict) -> None:
    if ctx.json:
        return
    kind = event["event"]
    if kind == "sheet":
        print(tr("cover sheet {n}", "分隔页 {n}", n=event["number"]), flush=True)
    elif kind == "label":
        print(tr("first page labelled {n}", "首页条码 {n}", n=event["number"]), flush=True)
    elif kind == "dossier" and not event.get("deferred"):
        print(
            tr(
                "  {n}: {p} page(s) stored; {c} of {d} declared",
                "  {n}：已保存 {p} 页；共 {c} 页，页数 {d}",
                n=event["number"],
                p=event["pages"],
                c=event["counted"],
                d=event["declared"] or "—",
            ),
            flush=True,
        )
    elif kind == "count":
        print(
            tr(
                "  ! {n}: {c} page(s), but 页数 says {d} (flagged)",
                "  ！{n}：{c} 页，与页数 {d} 不符（已标记）",
                n=event["number"],
                c=event["counted"],
                d=event["declared"],
            ),
            flush=True,
        )


def finish_split(ctx, result) -> int:
    data = result.as_dict()
    if ctx.json:
        ctx.emit(data)
    else:
        print(
            tr(
                "{s} sheet(s), {p} page(s) stored in {d} dossier(s); {h} held; {m} count difference(s).",
                "分隔页 {s} 张，已保存 {p} 页到 {d} 个案卷；暂存 {h} 页；页数不符 {m} 个。",
                s=result.sheets,
                p=result.stored_pages,
                d=len(result.parts),
                h=len(result.held),
                m=sum(1 for p in result.parts if p.mismatch),
            )
        )
    if result.error is not None:
        print(result.error.message, file=sys.stderr)
        return result.error.exit_code
    return 0


def cmd_scan_split(args, ctx, profile, extra) -> int:
    from scanstation.capture import Capture
    from scanstation.coversheet.split import SplitRun, recover_runs

    session = ctx.session()
    recover_runs(session)
    capture = Capture(session)
    try:
        split = SplitRun(capture, profile.device, profile, labels=args.labels, into=args.into, scan_options=extra)
        split.on_event = lambda e: _print_event(ctx, e)
        result = split.run()
    finally:
        capture.close()
    return finish_split(ctx, result)


def cmd_import_split(args, ctx) -> int:
    from scanstation.capture import Capture
    from scanstation.coversheet.split import import_split, recover_runs
    from scanstation.profiles import get_profile

    session = ctx.session()
    recover_runs(session)
    paths = ([args.number] if args.number else []) + list(args.paths)
    capture = Capture(session)
    try:
        result = import_split(
            capture,
            [Path(p) for p in paths],
            get_profile(session.home, args.profile),
            labels=args.labels,
            into=args.into,
            on_event=lambda e: _print_event(ctx, e),
        )
    finally:
        capture.close()
    return finish_split(ctx, result)


def cmd_split_runs(args, ctx) -> int:
    session = ctx.session()
    session.require("capture")
    rows = session.catalog.query(
        "SELECT id, operator, device, state, stop_reason, started_at, ended_at FROM split_runs"
        " ORDER BY id DESC LIMIT 50"
    )
    ctx.emit(
        rows,
        [
            f"{r['id']:>5}  {r['state']:<11} {r['stop_reason']:<18} {r['operator']:<10} {r['device']:<12} "
            f"{r['started_at']}"
            for r in rows
        ],
    )
    return 0


def cmd_split_held(args, ctx) -> int:
    from scanstation.coversheet.split import held_pages, recover_runs

    session = ctx.session()
    recover_runs(session)
    rows = held_pages(session, args.run_id)
    kinds = {
        "page": tr("page", "页面"),
        "sheet": tr("cover sheet", "分隔页"),
        "unreadable": tr("unreadable sheet", "无法识别的分隔页"),
    }
    ctx.emit(
        rows,
        [
            f"{r['run_id']:>5} {r['position']:>5}  {kinds.get(r['kind'], r['kind']):<10} {r['number']:<32} "
            f"{r['reason']}"
            for r in rows
        ]
        or [tr("No held pages.", "没有暂存的页面。")],
    )
    return 0


def cmd_split_assign(args, ctx) -> int:
    from scanstation.capture import Capture
    from scanstation.coversheet.split import assign
    from scanstation.profiles import get_profile

    session = ctx.session()
    capture = Capture(session)
    try:
        result = assign(capture, args.run_id, args.number, get_profile(session.home, args.profile))
    finally:
        capture.close()
    ctx.emit(
        {"number": result.number, "pages": len(result.pages), "error": result.error.message if result.error else None},
        tr("{n} held page(s) filed into {d}.", "已将 {n} 页暂存页面存入 {d}。", n=len(result.pages), d=result.number),
    )
    if result.error is not None:
        print(result.error.message, file=sys.stderr)
        return result.error.exit_code
    return 0


def cmd_split_resume(args, ctx) -> int:
    from scanstation.capture import Capture
    from scanstation.coversheet.split import resume
    from scanstation.profiles import get_profile

    session = ctx.session()
    capture = Capture(session)
    try:
        result = resume(capture, args.run_id, get_profile(session.home, args.profile), into=args.into)
    finally:
        capture.close()
    return finish_split(ctx, result)
