"""``scanstation doctor [--fix] [--check NAME]``: this computer and the station home (scanstation.doctor).

Without a station home (a fresh computer, a folder that is not a home yet) only the checks of the
computer run: programs, OCR languages, Python packages, scanners, CJK fonts.
"""

from __future__ import annotations

from scanstation import doctor
from scanstation.errors import ExitCode, HomeError
from scanstation.i18n import is_english, tr


def register(sub) -> None:
    p = sub.add_parser(
        "doctor",
        help=tr(
            "check the programs, packages, scanners and fonts this computer has, and the station home; say how to "
            "fix what is wrong",
            "检查本机的程序、软件包、扫描仪和字体以及工作目录，并说明如何修复问题",
        ),
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
    from scanstation.home import STATION_FILE

    home, without_home, unusable = None, "", None
    if (ctx.home_path() / STATION_FILE).exists():
        try:
            home = ctx.home()
        except HomeError as exc:  # locked, damaged, newer: the computer is still checked
            unusable = doctor.Finding("home", doctor.FAIL, str(ctx.home_path()), exc.en, exc.zh)
    else:
        without_home = tr(
            "No station home at {p}: only this computer was checked.",
            "{p} 不是扫描站工作目录：仅检查了本机。",
            p=ctx.home_path(),
        )
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
    if unusable is not None:
        result["findings"].insert(0, unusable)
        result["failed"] += 1
        result["ok"] = False
    status = {
        doctor.OK: tr("OK  ", "通过"),
        doctor.FAIL: tr("FAIL", "失败"),
        doctor.WARN: tr("WARN", "注意"),
        doctor.NOT_APPLICABLE: tr("N/A ", "不适用"),
    }
    lines = [f"[{status[doctor.FAIL]}] {unusable.message}"] if unusable is not None else []
    for name in result["checks"]:
        c = doctor.CHECKS[name]
        title = c.en if is_english() else c.zh
        for f in (f for f in result["findings"] if f.check == name):
            if f.status == doctor.OK and not f.data:
                lines.append(f"[{status[f.status]}] {title}")
            elif f.status == doctor.OK:  # a dependency, a scanner, a font: name and version
                lines.append(f"[{status[f.status]}] {title}: {f.object} — {f.message}")
            else:
                lines.append(f"[{status.get(f.status, f.status)}] {title}: {f.message}")
    if without_home:
        lines.append(without_home)
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
            "home": str(home.path) if home is not None else None,
            "without_home": without_home,
            "checks": result["checks"],
            "findings": [f.to_dict() for f in result["findings"]],
        },
        lines,
    )
    return ExitCode.OK if result["ok"] else ExitCode.CHECK_FAILED
