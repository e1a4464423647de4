"""Capture commands: devices, scan, import, watch, pages, page ..., dossier complete, recover, profile, qc."""

from __future__ import annotations

import sys
from pathlib import Path

from scanstation.errors import InvalidInput, UsageError
from scanstation.i18n import tr


def register(sub) -> None:
    p = sub.add_parser("devices", help=tr("list scanners", "列出扫描仪"))
    p.set_defaults(run=cmd_devices)

    p = sub.add_parser(
        "training",
        help=tr("switch the demo scanner on or off for training (admin)", "开启或关闭培训用演示扫描仪（管理员）"),
    )
    p.add_argument("state", nargs="?", choices=["on", "off", "status"], default="status")
    p.set_defaults(run=cmd_training)

    from scanstation.cli.cmd_coversheet import split_options

    p = sub.add_parser("scan", help=tr("scan pages into a dossier", "扫描页面到案卷"))
    p.add_argument("number", metavar="档号", nargs="?")
    _scan_options(p)
    split_options(p)
    p.add_argument(
        "--insert-after", type=int, metavar="N", help=tr("insert the new pages after page N", "新页插入到第 N 页之后")
    )
    p.set_defaults(run=cmd_scan)

    p = sub.add_parser(
        "import", help=tr("add pages from image files (TIFF, JPEG, PNG)", "从图像文件添加页面（TIFF、JPEG、PNG）")
    )
    p.add_argument("number", metavar="档号")
    p.add_argument("paths", nargs="*", metavar="FILE|DIR")
    p.add_argument("--profile")
    split_options(p)
    p.set_defaults(run=cmd_import)

    p = sub.add_parser(
        "watch", help=tr("take pages from a hot folder (DIR/档号/…)", "从热文件夹收取页面（目录/档号/…）")
    )
    p.add_argument("folder", metavar="DIR")
    p.add_argument("--profile")
    p.add_argument("--once", action="store_true", help=tr("take what is ready, then stop", "收取已就绪的文件后停止"))
    p.add_argument(
        "--settle", type=float, default=2.0, help=tr("seconds a file must stay unchanged", "文件保持不变的秒数")
    )
    split_options(p)
    p.set_defaults(run=cmd_watch)

    p = sub.add_parser("pages", help=tr("list a dossier's pages", "列出案卷的页面"))
    p.add_argument("number", metavar="档号")
    p.set_defaults(run=cmd_pages)

    page = sub.add_parser("page", help=tr("page operations", "页面操作")).add_subparsers(
        dest="page_cmd", metavar="ACTION"
    )
    p = page.add_parser("rotate", help=tr("rotate page N", "旋转第 N 页"))
    p.add_argument("number", metavar="档号")
    p.add_argument("seq", type=int, metavar="N")
    p.add_argument("degrees", type=int, choices=[90, 180, 270])
    p.set_defaults(run=cmd_page_rotate)
    p = page.add_parser(
        "delete", help=tr("delete page N (kept in originals until completion)", "删除第 N 页（完成前保留原件）")
    )
    p.add_argument("number", metavar="档号")
    p.add_argument("seq", type=int, metavar="N")
    p.set_defaults(run=cmd_page_delete)
    p = page.add_parser("move", help=tr("move page N to position M", "将第 N 页移到第 M 位"))
    p.add_argument("number", metavar="档号")
    p.add_argument("seq", type=int, metavar="N")
    p.add_argument("to", type=int, metavar="M")
    p.set_defaults(run=cmd_page_move)
    p = page.add_parser("replace", help=tr("replace page N by a rescan or a file", "用重扫或文件替换第 N 页"))
    p.add_argument("number", metavar="档号")
    p.add_argument("seq", type=int, metavar="N")
    p.add_argument("--file", help=tr("image file to use instead of scanning", "用图像文件代替扫描"))
    _scan_options(p)
    p.set_defaults(run=cmd_page_replace)
    p = page.add_parser(
        "note",
        help=tr(
            "record that page N of the original is not scanned, and why (R10)", "登记原件第 N 页不扫描及其原因（R10）"
        ),
    )
    p.add_argument("number", metavar="档号")
    p.add_argument("seq", type=int, metavar="N")
    p.add_argument("text")
    p.set_defaults(run=cmd_page_note)
    p = page.add_parser(
        "explain", help=tr("keep flagged page N on purpose, with the reason", "保留被标记的第 N 页并说明原因")
    )
    p.add_argument("number", metavar="档号")
    p.add_argument("seq", type=int, metavar="N")
    p.add_argument("text")
    p.set_defaults(run=cmd_page_explain)

    dossier = sub.add_parser("dossier", help=tr("dossier actions", "案卷操作")).add_subparsers(
        dest="dossier_cmd", metavar="ACTION"
    )
    p = dossier.add_parser(
        "complete", help=tr("complete a dossier (checks the page count, R09)", "完成案卷（核对页数，R09）")
    )
    p.add_argument("number", metavar="档号")
    p.add_argument(
        "--explain",
        action="append",
        default=[],
        metavar="KEY=TEXT",
        help=tr("missing=…, extra=… or page:N=…", "missing=…、extra=… 或 page:N=…"),
    )
    p.set_defaults(run=cmd_dossier_complete)

    p = sub.add_parser("recover", help=tr("finish interrupted scan sessions", "恢复中断的扫描会话"))
    p.set_defaults(run=cmd_recover)

    prof = sub.add_parser("profile", help=tr("scan profiles", "扫描方案")).add_subparsers(
        dest="profile_cmd", metavar="ACTION"
    )
    p = prof.add_parser("list", help=tr("list profiles", "列出扫描方案"))
    p.set_defaults(run=cmd_profile_list)
    p = prof.add_parser("save", help=tr("create or change a profile (admin)", "创建或修改扫描方案（管理员）"))
    p.add_argument("name")
    p.add_argument(
        "--device",
        help=tr(
            "scanner id (none: the only real scanner found at scan time)",
            "扫描仪编号（不指定：扫描时使用找到的唯一一台真实扫描仪）",
        ),
    )
    p.add_argument("--source", choices=["flatbed", "adf", "duplex"], default="adf")
    p.add_argument("--mode", choices=["color", "gray", "lineart"], default="color")
    p.add_argument("--dpi", type=int, default=300)
    p.add_argument("--format", choices=["jpeg", "tiff", "jp2"], default="jpeg")
    p.add_argument("--quality", type=int, default=85)
    p.add_argument("--no-deskew", action="store_true")
    p.add_argument("--no-crop", action="store_true")
    p.add_argument("--orientation", action="store_true")
    p.add_argument("--lock", action="store_true")
    p.set_defaults(run=cmd_profile_save)

    qc = sub.add_parser("qc", help=tr("quality control", "质检")).add_subparsers(dest="qc_cmd", metavar="ACTION")
    p = qc.add_parser("report", help=tr("automatic page flags and decisions", "自动标记与质检结论"))
    p.add_argument("number", metavar="档号")
    p.set_defaults(run=cmd_qc_report)
    p = qc.add_parser("queue", help=tr("dossiers waiting for QC", "待质检案卷"))
    p.set_defaults(run=cmd_qc_queue)
    p = qc.add_parser("pass", help=tr("pass page N", "第 N 页合格"))
    p.add_argument("number", metavar="档号")
    p.add_argument("seq", type=int, metavar="N")
    p.set_defaults(run=cmd_qc_pass)
    p = qc.add_parser(
        "reject", help=tr("reject page N, or the dossier without N", "第 N 页不合格；不给 N 则退回整个案卷")
    )
    p.add_argument("number", metavar="档号")
    p.add_argument("seq", type=int, nargs="?", metavar="N")
    p.add_argument("--reason", required=True)
    p.set_defaults(run=cmd_qc_reject)
    p = qc.add_parser("rescan", help=tr("request a rescan of page N", "要求重扫第 N 页"))
    p.add_argument("number", metavar="档号")
    p.add_argument("seq", type=int, metavar="N")
    p.add_argument("--reason", required=True)
    p.set_defaults(run=cmd_qc_rescan)
    p = qc.add_parser("approve", help=tr("approve the dossier", "质检通过"))
    p.add_argument("number", metavar="档号")
    p.set_defaults(run=cmd_qc_approve)


def _scan_options(p) -> None:
    p.add_argument("--device", help=tr("scanner id (see: scanstation devices)", "扫描仪编号（见 scanstation devices）"))
    p.add_argument("--source", choices=["flatbed", "adf", "duplex"])
    p.add_argument("--mode", choices=["color", "gray", "lineart"])
    p.add_argument("--dpi", type=int)
    p.add_argument("--pages", type=int, metavar="N", help=tr("stop after N pages", "扫描 N 页后停止"))
    p.add_argument("--profile")
    p.add_argument("--fault-at", metavar="N:STATUS", help="test and training: inject a device fault (demo, SANE test)")


def _profile(session, args):
    from dataclasses import replace

    from scanstation.errors import Refused
    from scanstation.profiles import get_profile

    profile = get_profile(session.home, getattr(args, "profile", None))
    overrides = {k: getattr(args, k) for k in ("source", "mode", "dpi") if getattr(args, k, None) is not None}
    if getattr(args, "device", None):
        from scanstation.devices.base import canonical_device_id

        overrides["device"] = canonical_device_id(args.device)
    if overrides and profile.locked:
        raise Refused(
            "Profile '{p}' is locked by the administrator; it cannot be overridden ({o}).",
            "扫描方案“{p}”已被管理员锁定，不能修改（{o}）。",
            p=profile.name,
            o=", ".join(overrides),
        )
    if "device" not in overrides:  # none named: the profile's, else the only real scanner (never the demo's)
        from scanstation.devices.factory import default_device

        overrides["device"] = default_device(session.home, profile.device)
    return replace(profile, **overrides).validate()


def _scan_extra(args) -> dict:
    if not getattr(args, "fault_at", None):
        return {}
    try:
        n, status = args.fault_at.split(":", 1)
        return {"fault_at_page": (int(n), status)}
    except ValueError:
        raise InvalidInput(
            "--fault-at takes N:STATUS, e.g. 4:jammed.", "--fault-at 的格式为 页号:状态，例如 4:jammed。"
        ) from None


def _print_page(ctx, row) -> None:
    if not ctx.json:
        flags = ",".join(row["qc_flags"]) if row["qc_flags"] else ""
        print(f"  {row['seq']:>4}  {row['file_name']}  {row['bytes']:>9}  {flags}", flush=True)


def _run_scan(ctx, session, number, profile, pages, extra):
    from scanstation.capture import Capture

    capture = Capture(session)
    others = [s for s in capture.interrupted_sessions() if s["number"] != number]  # this dossier's: stored first
    if others:
        ctx.warn(
            tr(
                "Note: an earlier scan session was interrupted; run `scanstation recover` to store its pages.",
                "提示：有中断的扫描会话；请运行 `scanstation recover` 保存其页面。",
            )
        )
    try:
        run = capture.start(number, profile.device, profile, pages=pages, scan_options=extra)
        run.on_page = lambda row: _print_page(ctx, row)
        result = run.run()
    finally:
        capture.close()
    return result


def _page_rows(result) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ("signature", "truth")} for r in result.pages]


def _finish_run(ctx, result) -> int:
    data = {
        "number": result.number,
        "pages": _page_rows(result),
        "ended_by": result.ended_by,
        "error": result.error.message if result.error else None,
    }
    if ctx.json:
        ctx.emit(data)
    else:
        print(tr("{n} page(s) stored in {d}.", "已保存 {n} 页到 {d}。", n=len(result.pages), d=result.number))
    if result.error is not None:
        print(result.error.message, file=sys.stderr)
        return result.error.exit_code
    return 0


def cmd_devices(args, ctx) -> int:
    from scanstation.devices.factory import all_devices, demo_scanner_allowed
    from scanstation.errors import ScanStationError

    try:  # the demo scanner is listed only on a demo home or a station in training
        demo = demo_scanner_allowed(ctx.home())
    except ScanStationError:  # no home yet: real scanners only
        demo = False
    devices = all_devices(demo=demo)
    ctx.emit([d.to_dict() for d in devices], [f"{d.id:<28} {d.display_name()}" for d in devices])
    return 0


def cmd_training(args, ctx) -> int:
    """Training mode: the demo scanner (invented pages) offered on this station; switching is audited."""
    from scanstation import settings

    if args.state != "status":
        settings.set_value(ctx.session(), "capture.demo_scanner", args.state == "on")
    home = ctx.home()
    on, demo_home = bool(settings.get(home, "capture.demo_scanner")), bool(settings.get(home, "station.demo"))
    if demo_home:
        line = tr("This is a demo home: the demo scanner is offered.", "这是演示工作目录：提供演示扫描仪。")
    elif on:
        line = tr(
            "Training mode is on: the demo scanner (invented pages marked 演示) is offered. Switch it off with: "
            "scanstation training off",
            "培训模式已开启：提供演示扫描仪（生成的页面带“演示”标记）。关闭：scanstation training off",
        )
    else:
        line = tr("Training mode is off: the demo scanner is not offered.", "培训模式已关闭：不提供演示扫描仪。")
    ctx.emit({"training": on, "demo_home": demo_home}, line)
    return 0


def cmd_scan(args, ctx) -> int:
    from scanstation import pages as page_ops

    session = ctx.session()
    profile = _profile(session, args)
    if args.split:
        from scanstation.cli.cmd_coversheet import cmd_scan_split

        return cmd_scan_split(args, ctx, profile, _scan_extra(args))
    if not args.number:
        raise UsageError(
            "Name the dossier (档号), or scan a stack with --split.", "请给出档号，或用 --split 扫描一叠案卷。"
        )
    before = len(page_ops._active(session, page_ops.find_dossier(session, args.number)))
    result = _run_scan(ctx, session, args.number, profile, args.pages, _scan_extra(args))
    if args.insert_after is not None and result.pages:
        if args.insert_after > before:
            raise InvalidInput(
                "Page {a} does not exist (the dossier had {n}).",
                "第 {a} 页不存在（原有 {n} 页）。",
                a=args.insert_after,
                n=before,
            )
        page_ops.move_last_pages_after(session, args.number, len(result.pages), args.insert_after)
    return _finish_run(ctx, result)


def cmd_import(args, ctx) -> int:
    from scanstation.capture import Capture
    from scanstation.profiles import get_profile

    if args.split:
        from scanstation.cli.cmd_coversheet import cmd_import_split

        return cmd_import_split(args, ctx)
    if not args.paths:
        raise UsageError("Name the image files or folders to import.", "请给出要导入的图像文件或文件夹。")
    session = ctx.session()
    capture = Capture(session)
    try:
        result = capture.import_files(
            args.number, [Path(p) for p in args.paths], get_profile(session.home, args.profile)
        )
    finally:
        capture.close()
    for row in result.pages:
        _print_page(ctx, row)
    return _finish_run(ctx, result)


def cmd_watch(args, ctx) -> int:
    from scanstation.errors import ExitCode

    session = ctx.session()
    root = Path(args.folder)
    report = (lambda line: None) if ctx.json else (lambda line: print(line, flush=True))
    if args.split:
        from scanstation.coversheet.hot_folder import open_split_watch

        watch = open_split_watch(
            session, root, args.profile, settle_s=args.settle, labels=args.labels, into=args.into, report=report
        )
        waiting = tr(
            "Watching {d} for stacks with cover sheets (Ctrl+C to stop)…",
            "正在监视 {d} 中带分隔页的批量文件（按 Ctrl+C 停止）…",
            d=root,
        )
    else:
        from scanstation.hot_folder import open_watch

        watch = open_watch(session, root, args.profile, args.settle, report=report)
        waiting = tr("Watching {d} (Ctrl+C to stop)…", "正在监视 {d}（按 Ctrl+C 停止）…", d=root)
    from scanstation.devices.base import CancelToken

    cancel = CancelToken()
    if not args.once:
        print(waiting, file=sys.stderr)
    try:
        watch.run(cancel, once=args.once)
    except KeyboardInterrupt:
        cancel.cancel()
    if args.split:
        ctx.emit({"runs": [r.as_dict() for r in watch.results], "refused": watch.refused}, None)
    else:
        ctx.emit({"stored_pages": watch.stored, "refused": watch.refused}, None)
    # files left where they were (refused) are a finding the caller must look at, not a failure of the run
    return ExitCode.CHECK_FAILED if watch.refused else ExitCode.OK


def cmd_pages(args, ctx) -> int:
    from scanstation.pages import list_pages

    rows = list_pages(ctx.session(), args.number)
    lines = []
    for r in rows:
        if r["state"] == "not_scanned":
            lines.append(
                tr(
                    "  --   original page {n} not scanned: {note}",
                    "  --   原件第 {n} 页未扫描：{note}",
                    n=r["original_page_no"],
                    note=r["note"],
                )
            )
        else:
            lines.append(
                f"{r['seq']:>4}  {r['file_name']}  {r['bytes']:>9}  {r['dpi']}dpi  {r['color_mode']:<6} "
                f"sha256:{r['sha256'][:12]} sm3:{r['sm3'][:12]}  {','.join(r['qc_flags'])}"
            )
    ctx.emit(rows, lines)
    return 0


def cmd_page_rotate(args, ctx) -> int:
    from scanstation.pages import rotate

    rotate(ctx.session(), args.number, args.seq, args.degrees)
    ctx.emit({"rotated": args.seq}, tr("Page {s} rotated.", "第 {s} 页已旋转。", s=args.seq))
    return 0


def cmd_page_delete(args, ctx) -> int:
    from scanstation.pages import delete

    delete(ctx.session(), args.number, args.seq)
    ctx.emit(
        {"deleted": args.seq},
        tr(
            "Page {s} deleted; the following pages were renumbered.",
            "第 {s} 页已删除；后续页面已重新编号。",
            s=args.seq,
        ),
    )
    return 0


def cmd_page_move(args, ctx) -> int:
    from scanstation.pages import move

    move(ctx.session(), args.number, args.seq, args.to)
    ctx.emit(
        {"moved": args.seq, "to": args.to},
        tr("Page {s} moved to {t}.", "第 {s} 页已移到第 {t} 位。", s=args.seq, t=args.to),
    )
    return 0


def cmd_page_replace(args, ctx) -> int:
    from scanstation import pages as page_ops
    from scanstation.capture import Capture
    from scanstation.profiles import get_profile

    session = ctx.session()
    dossier = page_ops.editable_dossier(session, args.number)
    page_ops._page(page_ops._active(session, dossier), args.seq, dossier["number"])  # exists, before scanning
    if args.file:
        capture = Capture(session)
        try:
            result = capture.import_files(args.number, [Path(args.file)], get_profile(session.home, args.profile))
        finally:
            capture.close()
    else:
        extra = {**_scan_extra(args), "first_page_number": args.seq}  # the sheet fed again is page N
        result = _run_scan(ctx, session, args.number, _profile(session, args), 1, extra)
    if not result.pages:
        code = _finish_run(ctx, result)
        return code or 1
    page_ops.replace_with_last(session, args.number, args.seq)
    ctx.emit(
        {"replaced": args.seq},
        tr(
            "Page {s} replaced; the original is kept until the dossier is completed.",
            "第 {s} 页已替换；原页面在案卷完成前予以保留。",
            s=args.seq,
        ),
    )
    return 0 if result.error is None else result.error.exit_code


def cmd_page_note(args, ctx) -> int:
    from scanstation.pages import mark_not_scanned

    mark_not_scanned(ctx.session(), args.number, args.seq, args.text)
    ctx.emit(
        {"not_scanned": args.seq},
        tr("Noted: original page {s} is not scanned.", "已登记：原件第 {s} 页不扫描。", s=args.seq),
    )
    return 0


def cmd_page_explain(args, ctx) -> int:
    from scanstation.pages import set_flag_explanation

    set_flag_explanation(ctx.session(), args.number, args.seq, args.text)
    ctx.emit({"explained": args.seq}, tr("Page {s}: explanation recorded.", "第 {s} 页：说明已记录。", s=args.seq))
    return 0


def cmd_dossier_complete(args, ctx) -> int:
    from scanstation.pages import complete

    explanations = {}
    for item in args.explain:
        key, sep, text = item.partition("=")
        if not sep:
            raise InvalidInput("--explain takes KEY=TEXT.", "--explain 的格式为 项=说明。")
        explanations[key.strip()] = text
    report = complete(ctx.session(), args.number, explanations)
    data = {
        "number": report.number,
        "completed": report.completed,
        "declared": report.declared,
        "scanned": report.scanned,
        "not_scanned": report.not_scanned,
        "missing": report.missing,
        "extra": report.extra,
        "unresolved_flags": report.unresolved_flags,
        "problems": report.problems(),
    }
    if report.completed:
        data["explained"] = report.explained
        ctx.emit(
            data,
            tr(
                "Dossier {n} completed ({s} pages{x}); it now waits for QC.",
                "档号 {n} 已完成（{s} 页{x_zh}），等待质检。",
                n=report.number,
                s=report.scanned,
                x="; the page-count difference is explained (R09/R10)" if report.explained else "",
                x_zh="；页数差异已说明" if report.explained else "",
            ),
        )
        return 0
    ctx.emit(
        data,
        [tr("Dossier {n} cannot be completed yet (R09):", "档号 {n} 暂不能完成（R09）：", n=report.number)]
        + ["  - " + p for p in report.problems()]
        + [
            tr(
                "Fix the pages, or explain each difference with --explain missing=… / extra=… / page:N=….",
                "请处理这些页面，或用 --explain missing=… / extra=… / page:N=… 逐项说明。",
            )
        ],
    )
    return 1


def cmd_recover(args, ctx) -> int:
    from scanstation import recovery

    session = ctx.session()
    report = recovery.recover(session, progress=lambda row: _print_page(ctx, row))
    rec = report.reconcile
    lines = [
        tr("Recovered {n} page(s) of {d}.", "已恢复 {d} 的 {n} 页。", n=len(r.pages), d=r.number)
        for r in report.sessions
    ]
    if report.moves_replayed:
        lines.append(
            tr(
                "Finished {n} interrupted page file move(s).",
                "已完成 {n} 项中断的页面文件移动。",
                n=report.moves_replayed,
            )
        )
    lines += [
        tr("Not recovered yet: {d}: {why}", "尚未恢复：{d}：{why}", d=f["number"], why=f["error"].message)
        for f in report.failed
    ]
    if rec.orphan_files or rec.partial_files:
        lines.append(
            tr(
                "Files without a catalog row moved to quarantine: {n}",
                "无目录记录的文件已移入隔离区：{n}",
                n=len(rec.orphan_files) + len(rec.partial_files),
            )
        )
    lines += [
        tr(
            "Catalog row without its file: {n} #{s}: {f}",
            "目录记录缺少文件：{n} 第 {s} 页：{f}",
            n=m["number"],
            s=m["seq"],
            f=m["file"],
        )
        for m in rec.missing_files
    ]
    ctx.emit(report.as_dict(), lines or [tr("Nothing to recover.", "没有需要恢复的内容。")])
    return 0 if report.clean else 1


def cmd_profile_list(args, ctx) -> int:
    from scanstation.profiles import all_profiles

    profiles = all_profiles(ctx.home())
    ctx.emit(
        [p.as_dict() for p in profiles],
        [
            f"{p.name:<12} {p.device:<12} {p.source:<8} {p.mode:<8} {p.dpi}dpi {p.format}"
            f"{' ' + tr('(locked)', '（已锁定）') if p.locked else ''}"
            for p in profiles
        ],
    )
    return 0


def cmd_profile_save(args, ctx) -> int:
    from scanstation.devices.base import canonical_device_id
    from scanstation.devices.factory import check_device_allowed
    from scanstation.profiles import ScanProfile, save_profile

    session = ctx.session()
    device = canonical_device_id(args.device or "")
    if device:
        check_device_allowed(session.home, device)  # the demo scanner: demo homes and training only
    profile = ScanProfile(
        args.name,
        device=device,
        source=args.source,
        mode=args.mode,
        dpi=args.dpi,
        format=args.format,
        jpeg_quality=args.quality,
        deskew=not args.no_deskew,
        crop=not args.no_crop,
        orientation=args.orientation,
        locked=args.lock,
    )
    save_profile(session, profile)
    ctx.emit(profile.as_dict(), tr("Profile {n} saved.", "扫描方案 {n} 已保存。", n=args.name))
    return 0


# -- QC ------------------------------------------------------------------------------------
def cmd_qc_report(args, ctx) -> int:
    from scanstation import qc

    data = qc.report(ctx.session(), args.number)
    lines = [
        tr(
            "{n}: {p} pages, {f} flagged",
            "{n}：共 {p} 页，{f} 页有标记",
            n=data["number"],
            p=len(data["pages"]),
            f=data["flagged_pages"],
        )
    ]
    for p in data["pages"]:
        if p["flags"] or p["decision"]:
            lines.append(
                f"  {p['seq']:>4}  {', '.join(qc.flag_label(f) for f in p['flags']):<24} "
                f"{p['decision']} {p['reason']} {p['note']}"
            )
    ctx.emit(data, lines)
    return 0


def cmd_qc_queue(args, ctx) -> int:
    from scanstation import qc

    rows = qc.queue(ctx.session())
    ctx.emit(
        rows, [f"{r['number']}  {r['declared_pages'] or '':>4}  {r['title']}  ({r['completed_by']})" for r in rows]
    )
    return 0


def cmd_qc_pass(args, ctx) -> int:
    from scanstation import qc

    qc.page_decision(ctx.session(), args.number, args.seq, True)
    ctx.emit({"passed": args.seq}, tr("Page {s} passed.", "第 {s} 页合格。", s=args.seq))
    return 0


def cmd_qc_reject(args, ctx) -> int:
    from scanstation import qc

    if args.seq is None:
        qc.reject(ctx.session(), args.number, [args.reason])
        ctx.emit(
            {"rejected": args.number},
            tr("Dossier {n} returned to the clerk.", "档号 {n} 已退回经办人。", n=args.number),
        )
    else:
        qc.page_decision(ctx.session(), args.number, args.seq, False, args.reason)
        ctx.emit({"rejected": args.seq}, tr("Page {s} rejected.", "第 {s} 页不合格。", s=args.seq))
    return 0


def cmd_qc_rescan(args, ctx) -> int:
    from scanstation import qc

    qc.request_rescan(ctx.session(), args.number, args.seq, args.reason)
    ctx.emit(
        {"rescan": args.seq},
        tr(
            "Rescan of page {s} requested; the dossier went back to the clerk.",
            "已要求重扫第 {s} 页；案卷已退回经办人。",
            s=args.seq,
        ),
    )
    return 0


def cmd_qc_approve(args, ctx) -> int:
    from scanstation import qc

    qc.approve(ctx.session(), args.number)
    ctx.emit({"approved": args.number}, tr("Dossier {n} approved.", "档号 {n} 质检通过。", n=args.number))
    return 0
