"""OCR and search commands: ``ocr [--wait]``, ``ocr redo``, ``ocr text`` and ``search QUERY``."""

from __future__ import annotations

import sys

from scanstation import search as search_index
from scanstation.errors import InvalidInput
from scanstation.i18n import is_english, tr

FIELD_NAMES_ZH = {
    "text": "正文",
    "number": "档号",
    "title": "题名",
    "person_name": "姓名",
    "employer": "单位",
    "person_id_number": "身份证号",
}


def register(sub) -> None:
    p = sub.add_parser(
        "ocr",
        help=tr(
            "OCR queue status; --wait reads every queued page now", "文字识别队列状态；--wait 立即识别所有排队页面"
        ),
    )
    p.add_argument(
        "--wait",
        action="store_true",
        help=tr(
            "OCR the queued pages (and failed ones still to retry) until none is left",
            "识别排队的页面（及待重试的失败页面），直到队列为空",
        ),
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help=tr(
            "worker processes (default: one per core; PP-OCR: as many as fit in memory)",
            "工作进程数（默认每个处理器核心一个；PP-OCR：内存允许的数量）",
        ),
    )
    p.add_argument(
        "--timeout", type=float, default=120.0, help=tr("time limit per page in seconds", "每页识别时限（秒）")
    )
    p.add_argument(
        "--max-attempts", type=int, default=3, help=tr("tries per page before it stays failed", "每页最多尝试次数")
    )
    p.add_argument(
        "--retry-failed",
        action="store_true",
        help=tr("queue the failed pages again with fresh attempts", "将失败页面重新排队（重新计算尝试次数）"),
    )
    p.add_argument(
        "--engine",
        choices=("tesseract", "rapidocr", "auto"),
        default=None,
        help=tr(
            "OCR engine for pages not queued for a given one (default: the station's ocr.engine)",
            "识别引擎（默认：本站设置 ocr.engine；已指定引擎的页面不受影响）",
        ),
    )
    p.set_defaults(run=cmd_ocr)
    ocr_sub = p.add_subparsers(dest="ocr_command", required=False, metavar="{redo,text}")
    r = ocr_sub.add_parser(
        "redo",
        help=tr("read pages again with another engine (in the background)", "用另一识别引擎重新识别页面（后台进行）"),
    )
    r.add_argument(
        "--engine",
        dest="redo_engine",
        required=True,
        choices=("tesseract", "rapidocr", "auto"),
        help=tr("engine to read the pages with", "重新识别所用的引擎"),
    )
    which = r.add_mutually_exclusive_group(required=True)
    which.add_argument("number", nargs="?", default=None, help=tr("档号 of one dossier", "一个案卷的档号"))
    which.add_argument("--year", type=int, default=None, help=tr("all dossiers of this year", "该年度的全部案卷"))
    which.add_argument("--all", dest="all_pages", action="store_true", help=tr("all dossiers", "全部案卷"))
    r.add_argument(
        "--wait",
        dest="redo_wait",
        action="store_true",
        help=tr(
            "read them now instead of leaving them to the station's background OCR",
            "立即识别，而不是交给工作站后台识别",
        ),
    )
    r.set_defaults(run=cmd_ocr_redo)
    t = ocr_sub.add_parser("text", help=tr("print what OCR read on a dossier's pages", "显示案卷各页的识别文字"))
    t.add_argument("number", help=tr("档号", "档号"))
    t.add_argument("--page", type=int, default=None, help=tr("only this page", "只显示该页"))
    t.add_argument(
        "--unmasked",
        action="store_true",
        help=tr("show full ID numbers (needs the right; logged)", "显示完整身份证号（需相应权限；记入审计）"),
    )
    t.set_defaults(run=cmd_ocr_text)

    p = sub.add_parser("search", help=tr("full-text search in OCR text and the catalog", "在识别文字和目录中全文检索"))
    p.add_argument("query", help=tr("words to find (several words: all must occur)", "检索词（多个词须同时出现）"))
    p.add_argument("--limit", type=int, default=20, help=tr("at most this many hits", "最多显示条数"))
    p.add_argument(
        "--unmasked",
        action="store_true",
        help=tr("show full ID numbers (needs the right; logged)", "显示完整身份证号（需相应权限；记入审计）"),
    )
    p.set_defaults(run=cmd_search)


def _counts_line(counts: dict) -> str:
    return tr(
        "queued {queued} · running {running} · done {done} · failed {failed} (to retry {retry}) · skipped {skipped}",
        "待识别 {queued} · 识别中 {running} · 已完成 {done} · 失败 {failed}（待重试 {retry}） · 已跳过 {skipped}",
        **counts,
    )


def cmd_ocr(args, ctx) -> int:
    from scanstation.ocr.queue import OcrRunner, queue_counts, requeue_failed

    session = ctx.session()
    session.require("catalog.read")
    catalog = session.catalog
    if args.max_attempts < 1 or args.timeout <= 0 or (args.workers is not None and args.workers < 1):
        raise InvalidInput(
            "--workers and --max-attempts must be at least 1 and --timeout above 0.",
            "--workers 和 --max-attempts 至少为 1，--timeout 须大于 0。",
        )
    if args.retry_failed:
        with catalog.write() as conn:
            n = requeue_failed(conn)
        ctx.warn(tr("{n} failed page(s) queued again.", "已将 {n} 个失败页面重新排队。", n=n))
    if not args.wait:
        counts = queue_counts(catalog, args.max_attempts)
        ctx.emit(counts, _counts_line(counts))
        return 0
    return _run_queue(
        ctx,
        catalog,
        OcrRunner(
            session.home,
            workers=args.workers,
            timeout_s=args.timeout,
            max_attempts=args.max_attempts,
            engine=args.engine,
        ),
        args.max_attempts,
    )


def _run_queue(ctx, catalog, runner, max_attempts: int) -> int:
    from scanstation.ocr.queue import queue_counts

    last = [0]

    def progress(state) -> None:
        finished = state.done + state.failed + state.skipped
        if not ctx.json and finished != last[0]:
            last[0] = finished
            print(
                tr(
                    "  {n} read, {failed} failed, {waiting} waiting",
                    "  已识别 {n}，失败 {failed}，等待 {waiting}",
                    n=state.done,
                    failed=state.failed,
                    waiting=state.waiting,
                ),
                file=sys.stderr,
            )

    stats = runner.run_until_empty(progress=progress)
    counts = queue_counts(catalog, max_attempts)
    lines = [
        tr(
            "This run: {done} read, {failed} failed, {skipped} skipped in {s:.1f} s.",
            "本次：识别 {done} 页，失败 {failed} 页，跳过 {skipped} 页，用时 {s:.1f} 秒。",
            done=stats.done,
            failed=stats.failed,
            skipped=stats.skipped,
            s=stats.seconds,
        ),
        _counts_line(counts),
    ]
    lines += ["  " + error for error in stats.errors[:20]]
    ctx.emit({**counts, "run": stats.as_dict()}, lines)
    return 0


def cmd_ocr_redo(args, ctx) -> int:
    from scanstation.ocr import actions
    from scanstation.ocr.queue import OcrRunner

    session = ctx.session()
    result = actions.redo(session, args.redo_engine, number=args.number, year=args.year, all_pages=args.all_pages)
    ctx.warn(
        tr(
            "{n} page(s) queued to be read again with {engine}.",
            "已将 {n} 页排队，将用 {engine} 重新识别。",
            n=result["queued"],
            engine=result["engine"],
        )
    )
    if not args.redo_wait:
        ctx.emit(
            result,
            tr(
                "The station reads them in the background; `scanstation ocr --wait` reads them now. "
                "Their current text stays searchable until then.",
                "工作站将在后台识别；`scanstation ocr --wait` 可立即识别。识别完成前，原有文字仍可检索。",
            ),
        )
        return 0
    return _run_queue(ctx, session.catalog, OcrRunner(session.home), 3)


def cmd_ocr_text(args, ctx) -> int:
    from scanstation.ocr import actions

    session = ctx.session()
    result = actions.page_texts(session, args.number, page=args.page, unmasked=args.unmasked)
    lines = []
    for p in result["pages"]:
        conf = "-" if p["confidence"] is None else f"{p['confidence']:.1f}"
        lines.append(
            tr(
                "--- {number} p.{page} · {engine} · confidence {conf} · {status}",
                "--- {number} 第{page}页 · {engine} · 置信度 {conf} · {status}",
                number=result["number"],
                page=p["page"],
                engine=p["engine"] or "-",
                conf=conf,
                status=p["status"],
            )
        )
        lines.append(p["text"] if p["text"] else tr("(no text)", "（无文字）"))
        if p["error"]:  # why the last reading failed (English, then Chinese)
            lines.append(tr("Last error: {error}", "最近一次错误：{error}", error=p["error"].replace("\n", " / ")))
    if not result["pages"]:
        lines.append(tr("Dossier {number} has no pages.", "案卷 {number} 没有页面。", number=result["number"]))
    ctx.emit(result, lines)
    return 0


def cmd_search(args, ctx) -> int:
    session = ctx.session()
    session.require("catalog.read")
    if args.limit < 1 or args.limit > 1000:
        raise InvalidInput("--limit must be 1-1000.", "--limit 须在 1-1000 之间。")
    if args.unmasked:
        session.require("personal.unmasked")
    catalog = session.catalog
    if search_index.index_needs_rebuild(catalog):
        ctx.warn(
            tr(
                "The search index is out of date; some results may be missing until it is rebuilt.",
                "检索索引已过期；重建之前部分结果可能缺失。",
            )
        )
    hits = search_index.search(catalog, args.query, limit=args.limit, unmasked=args.unmasked)
    if args.unmasked and hits:
        session.log("personal.view", "search", args.query[:100], {"hits": len(hits)})
    data = [
        {
            "number": h.number,
            "page": h.page,
            "field": h.field,
            "snippet": h.snippet,
            "score": h.score,
            "engine": h.engine,
        }
        for h in hits
    ]
    if not hits:
        lines = [tr("Nothing found for “{q}”.", "未找到“{q}”。", q=args.query)]
    else:
        lines = []
        for h in hits:
            where = (
                tr("p.{n}", "第{n}页", n=h.page)
                if h.page is not None
                else (h.field if is_english() else FIELD_NAMES_ZH.get(h.field, h.field))
            )
            lines.append(f"{h.number}\t{where}\t{h.snippet}" + (f"\t[{h.engine}]" if h.engine else ""))
    ctx.emit(data, lines)
    return 0
