"""``scanstation doctor [--fix] [--check NAME]``: checks of the station home (scanstation.doctor)."""

from __future__ import annotations

from scanstation import doctor
from scanstation.i18n import is_english, tr


def register(sub) -> None:
    p = sub.add_parser(
        "doctor", help=tr("check the station home and say how to fix what is wrong", "检查工作目录，并说明如何修复问题")
    )
    p.add_argument(
        "--fix",
        action="store_true",
        help=tr("apply the safe fixes (file permissions), then check again", "执行安全的修复（文件权限）后重新检查"),
    )
    p.add_argument(
        "--check",
        action="append",
        dest="only",
        metavar="NAME",
        help=tr("run only this check (repeatable)", "只运行此项检查（可重复）"),
    )
    p.set_defaults(run=cmd_doctor)


def cmd_doctor(args, ctx) -> int:
    home = ctx.home()
    unknown = sorted(set(args.only or []) - set(doctor.CHECKS))
    if unknown:
        from scanstation.errors import InvalidInput

        raise InvalidInput(
            "Unknown check(s): {u}. Checks: {k}.",
            "未知的检查项：{u}。可用检查项：{k}。",
            u=", ".join(unknown),
            k=", ".join(doctor.CHECKS),
        )
    result = doctor.run(home, args.only, fix=args.fix)
    status = {
        doctor.OK: tr("OK  ", "通过"),
        doctor.FAIL: tr("FAIL", "失败"),
        doctor.WARN: tr("WARN", "注意"),
        doctor.NOT_APPLICABLE: tr("N/A ", "不适用"),
    }
    lines = []
    for name in result["checks"]:
        c = doctor.CHECKS[name]
        title = c.en if is_english() else c.zh
        for f in (f for f in result["findings"] if f.check == name):
            lines.append(
                f"[{status.get(f.status, f.status)}] {title}" + (f": {f.message}" if f.status != doctor.OK else "")
            )
    for obj in result["fixed"]:
        lines.append(tr("fixed: {o}", "已修复：{o}", o=obj))
    lines.append(
        tr("All checks passed.", "全部检查通过。")
        if result["ok"]
        else tr(
            "{n} problem(s) found; fix them as described above.",
            "发现 {n} 个问题；请按上述说明修复。",
            n=result["failed"],
        )
    )
    ctx.emit(
        {
            "ok": result["ok"],
            "failed": result["failed"],
            "fixed": result["fixed"],
            "findings": [f.to_dict() for f in result["findings"]],
        },
        lines,
    )
    return 0 if result["ok"] else 1
