"""Custody commands: audit export, catalog export, personal-data protection, retention due,
destruction, corrections, backups, fixity, lending, reports."""

from __future__ import annotations

import os

from scanstation.custody import require_schema
from scanstation.custody.retention_due import parse_date
from scanstation.i18n import tr
from scanstation.users import password_from

PASSPHRASE_ENV = "SCANSTATION_PROTECT_PASSPHRASE"


# -- attaching leaves to groups the foundation module creates (it registers first) -------------
def _subparsers_of(parser):
    import argparse

    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def _extend_group(sub, name: str, add_leaves) -> None:
    """Add this module's leaves to an existing group (``audit``, ``catalog``)."""
    add_leaves(_subparsers_of(sub.choices[name]))


def _group(sub, name: str, help_text: str, dest: str):
    return sub.add_parser(name, help=help_text).add_subparsers(dest=dest, metavar="ACTION")


def register(sub) -> None:
    _extend_group(sub, "audit", _audit_leaves)
    _extend_group(sub, "catalog", _catalog_leaves)

    protect = _group(sub, "protect", tr("personal-data encryption at rest", "个人信息加密保护"), "protect_cmd")
    p = protect.add_parser(
        "enable",
        help=tr(
            f"create the data key and encrypt personal fields (passphrase: prompt or {PASSPHRASE_ENV})",
            f"创建数据密钥并加密个人信息字段（口令：提示输入或 {PASSPHRASE_ENV}）",
        ),
    )
    p.set_defaults(run=cmd_protect_enable)
    p = protect.add_parser("status", help=tr("show whether personal data is encrypted", "显示个人信息加密状态"))
    p.set_defaults(run=cmd_protect_status)
    p = protect.add_parser("seal", help=tr("encrypt personal fields still in plain text", "加密仍为明文的个人信息字段"))
    p.set_defaults(run=cmd_protect_seal)
    p = protect.add_parser(
        "passphrase",
        help=tr(
            "change the protection passphrase (new one: SCANSTATION_NEW_PASSPHRASE)",
            "修改保护口令（新口令：SCANSTATION_NEW_PASSPHRASE）",
        ),
    )
    p.set_defaults(run=cmd_protect_passphrase)
    p = protect.add_parser(
        "images",
        help=tr(
            "encrypt page images at rest from now on, and the ones already stored",
            "从现在起加密存储页面图像，并加密已存储的图像",
        ),
    )
    p.set_defaults(run=cmd_protect_images)

    ret = _group(sub, "retention", tr("retention periods", "保管期限"), "retention_cmd")
    p = ret.add_parser("due", help=tr("dossiers whose retention has expired", "保管期限已到期的案卷"))
    p.add_argument(
        "--as-of", dest="as_of", help=tr("date (YYYY-MM-DD), default today", "截止日期（YYYY-MM-DD），默认今天")
    )
    p.set_defaults(run=cmd_retention_due)

    des = _group(sub, "destruction", tr("appraisal and destruction (R37)", "鉴定与销毁（R37）"), "destruction_cmd")
    p = des.add_parser(
        "propose", help=tr("propose a destruction register from the due list", "根据到期清单提出销毁清册")
    )
    p.add_argument("--as-of", dest="as_of", required=True, help="YYYY-MM-DD")
    p.add_argument("--opinion", required=True, help=tr("appraisal opinion", "鉴定意见"))
    p.add_argument(
        "--dossier",
        action="append",
        metavar="档号",
        help=tr("only these dossiers (repeatable)", "仅这些案卷（可重复）"),
    )
    p.set_defaults(run=cmd_destruction_propose)
    p = des.add_parser("register", help=tr("write the destruction register (销毁清册) as PDF", "输出销毁清册 PDF"))
    p.add_argument("id")
    p.add_argument("--out", required=True)
    p.set_defaults(run=cmd_destruction_register)
    p = des.add_parser(
        "approve",
        help=tr("approve a register (an administrator who did not propose it)", "批准销毁清册（须为非提出人的管理员）"),
    )
    p.add_argument("id")
    p.set_defaults(run=cmd_destruction_approve)
    p = des.add_parser("reject", help=tr("do not approve a register", "不予批准销毁清册"))
    p.add_argument("id")
    p.add_argument("--reason", required=True)
    p.set_defaults(run=cmd_destruction_reject)
    p = des.add_parser(
        "execute",
        help=tr(
            "record the destruction as supervisor (two different supervisors)", "监销人确认销毁（须两名不同的监销人）"
        ),
    )
    p.add_argument("id")
    p.add_argument("--method", required=True, help=tr("destruction method", "销毁方式"))
    p.add_argument("--date", required=True, help=tr("destruction date YYYY-MM-DD", "销毁日期 YYYY-MM-DD"))
    p.set_defaults(run=cmd_destruction_execute)
    p = des.add_parser("list", help=tr("list destruction registers", "列出销毁清册"))
    p.set_defaults(run=cmd_destruction_list)

    p = sub.add_parser(
        "correct",
        help=tr(
            "correct a dossier's data, also after transfer (logged, R12); a clerk "
            "corrects 页数 (--field declared_pages) while the dossier is being scanned",
            "更正案卷数据（移交后亦可，记入审计，R12）；操作员可在扫描阶段更正页数（--field declared_pages）",
        ),
    )
    p.add_argument("number", metavar="档号")
    p.add_argument("--field", required=True)
    p.add_argument("--value", required=True)
    p.add_argument("--reason", required=True)
    p.set_defaults(run=cmd_correct)

    bak = _group(sub, "backup", tr("backups (R39)", "备份（R39）"), "backup_cmd")
    p = bak.add_parser("create", help=tr("create a new backup generation in DEST", "在 DEST 中创建新的备份代"))
    p.add_argument("dest")
    p.add_argument(
        "--rehash",
        action="store_true",
        help=tr("re-read every file instead of trusting size and time", "重新读取所有文件，而不依据大小和时间判断"),
    )
    p.set_defaults(run=cmd_backup_create)
    p = bak.add_parser("verify", help=tr("recompute every checksum in DEST", "重新计算 DEST 中的全部校验值"))
    p.add_argument("dest")
    p.add_argument("--generation")
    p.set_defaults(run=cmd_backup_verify)
    p = bak.add_parser("restore", help=tr("restore a generation into an empty folder", "将备份恢复到空目录"))
    p.add_argument("dest")
    p.add_argument("--to", required=True, dest="target")
    p.add_argument("--generation")
    p.add_argument(
        "--db",
        metavar="postgresql://…",
        help=tr(
            "archive on PostgreSQL: the new, empty database to restore into (no password in it)",
            "PostgreSQL 档案库：恢复到的新建空数据库（不含口令）",
        ),
    )
    p.add_argument(
        "--store",
        metavar="FOLDER | s3://bucket/prefix",
        help=tr("archive on PostgreSQL: the new page store", "PostgreSQL 档案库：新的页面存储"),
    )
    p.add_argument(
        "--s3-endpoint",
        metavar="URL",
        help=tr("S3-compatible endpoint of the new store", "新页面存储的 S3 兼容端点"),
    )
    p.add_argument(
        "--credentials",
        metavar="FILE",
        help=tr(
            "a mode-0600 file of PGPASSWORD= / AWS_ACCESS_KEY_ID= / AWS_SECRET_ACCESS_KEY= lines",
            "权限 0600 的凭据文件（PGPASSWORD= / AWS_ACCESS_KEY_ID= / AWS_SECRET_ACCESS_KEY= 行）",
        ),
    )
    p.set_defaults(run=cmd_backup_restore)
    p = bak.add_parser("list", help=tr("list the generations in DEST", "列出 DEST 中的备份代"))
    p.add_argument("dest")
    p.set_defaults(run=cmd_backup_list)
    p = bak.add_parser("status", help=tr("last backups and whether a reminder is due", "最近的备份及是否需要提醒"))
    p.set_defaults(run=cmd_backup_status)

    fix = _group(sub, "fixity", tr("fixity checks of stored images", "存储图像的完整性校验"), "fixity_cmd")
    p = fix.add_parser("check", help=tr("re-hash stored page images", "重新计算存储页面的校验值"))
    p.add_argument(
        "--sample", type=float, default=100.0, help=tr("percent of pages (default 100)", "抽查页面百分比（默认 100）")
    )
    p.add_argument("--seed", type=int, help=tr("random seed of the sample", "抽样随机种子"))
    p.set_defaults(run=cmd_fixity_check)

    lend = _group(sub, "lend", tr("lending (借阅)", "借阅"), "lend_cmd")
    p = lend.add_parser("request", help=tr("request to borrow a dossier", "申请借阅案卷"))
    p.add_argument("number", metavar="档号")
    p.add_argument("--reason", required=True)
    p.add_argument("--days", type=int, required=True)
    p.set_defaults(run=cmd_lend_request)
    p = lend.add_parser("approve", help=tr("approve a loan (not the requester)", "批准借阅（申请人以外）"))
    p.add_argument("id")
    p.set_defaults(run=cmd_lend_approve)
    p = lend.add_parser("reject", help=tr("reject a loan request", "退回借阅申请"))
    p.add_argument("id")
    p.add_argument("--reason", required=True)
    p.set_defaults(run=cmd_lend_reject)
    p = lend.add_parser("export", help=tr("export watermarked pages during the loan", "在借阅期内导出带水印的页面"))
    p.add_argument("id")
    p.add_argument("--out", required=True)
    p.add_argument(
        "--format",
        choices=["jpeg", "pdf"],
        default="jpeg",
        help=tr("one JPEG per page, or one double-layer PDF", "每页一个 JPEG，或整卷一个双层 PDF"),
    )
    p.set_defaults(run=cmd_lend_export)
    p = lend.add_parser("return", help=tr("close a loan", "归还（结束借阅）"))
    p.add_argument("id")
    p.set_defaults(run=cmd_lend_return)
    p = lend.add_parser("list", help=tr("list loans", "列出借阅单"))
    p.add_argument("--overdue", action="store_true")
    p.set_defaults(run=cmd_lend_list)

    p = sub.add_parser("report", help=tr("PDF reports", "PDF 报表"))
    p.add_argument("kind", choices=["workload", "qc", "retention", "destruction", "lending"])
    p.add_argument("--out", required=True)
    p.add_argument("--since")
    p.add_argument("--until")
    p.add_argument("--as-of", dest="as_of", help=tr("for the retention report", "用于到期清单"))
    p.set_defaults(run=cmd_report)


def _audit_leaves(aud) -> None:
    p = aud.add_parser(
        "export", help=tr("export the audit trail (CSV or PDF), logged", "导出审计日志（CSV 或 PDF），记入审计")
    )
    p.add_argument("--format", choices=["csv", "pdf"], required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--since")
    p.add_argument("--until")
    p.set_defaults(run=cmd_audit_export)


def _catalog_leaves(cat) -> None:
    p = cat.add_parser(
        "export", help=tr("export all dossiers to CSV (ID numbers masked)", "导出全部案卷为 CSV（身份证号脱敏）")
    )
    p.add_argument("--out", required=True)
    p.add_argument(
        "--unmasked",
        action="store_true",
        help=tr("full ID numbers (needs the right; logged)", "完整身份证号（需相应权限；记入审计）"),
    )
    p.set_defaults(run=cmd_catalog_export)


# -- shared ---------------------------------------------------------------------------------
def _session(ctx):
    session = ctx.session()
    require_schema(session.catalog)
    return session


def _backup_session(ctx):
    """Backups need only their own table, which an archive on PostgreSQL has (its migration 110)."""
    session = ctx.session()
    if session.home.info.backend == "sqlite":
        require_schema(session.catalog)
    return session


def _data_key(ctx, session, required: bool):
    """The unlocked personal-data key when protection is on: from the process, the environment or a prompt."""
    from scanstation.custody import protection

    home = session.home
    if not protection.is_enabled(home):
        return None
    key = protection.unlocked_key(home)
    if key is not None:
        return key
    if not required and os.environ.get(PASSPHRASE_ENV) is None:
        return None
    passphrase = password_from(PASSPHRASE_ENV, tr("Protection passphrase: ", "保护口令："))
    key = protection.unlock(home, passphrase)
    protection.remember(home, key)
    return key


# -- audit / catalog export ---------------------------------------------------------------------
def cmd_audit_export(args, ctx) -> int:
    from scanstation.custody import audit_export

    session = _session(ctx)
    session.require("audit.read")
    _data_key(ctx, session, required=False)
    result = audit_export.export(session, args.format, args.out, args.since, args.until)
    ctx.emit(
        result,
        tr(
            "{n} audit entries exported to {f} ({p}).",
            "已导出 {n} 条审计记录到 {f}（{p}）。",
            n=result["rows"],
            f=args.out,
            p=tr("before/after in full", "变更内容完整")
            if result["protected_fields"] == "full"
            else tr("ID and bank numbers masked", "身份证号、银行账号已脱敏"),
        ),
    )
    return 0


def cmd_catalog_export(args, ctx) -> int:
    from scanstation.custody import personal_data

    session = _session(ctx)
    session.require("catalog.export")
    if args.unmasked:
        session.require("personal.unmasked")
    key = _data_key(ctx, session, required=True)
    result = personal_data.export_catalog(session, args.out, unmasked=args.unmasked, key=key)
    ctx.emit(
        result,
        tr(
            "{n} dossiers exported to {f} ({m}).",
            "已导出 {n} 个案卷到 {f}（{m}）。",
            n=result["rows"],
            f=args.out,
            m=tr("ID numbers masked", "身份证号已脱敏")
            if result["masked"]
            else tr("full ID numbers, logged", "完整身份证号，已记入审计"),
        ),
    )
    return 0


# -- protection -------------------------------------------------------------------------------
def cmd_protect_enable(args, ctx) -> int:
    from scanstation.custody import protection

    session = _session(ctx)
    session.require("keys.manage")
    passphrase = password_from(PASSPHRASE_ENV, tr("New protection passphrase: ", "新的保护口令："), confirm=True)
    result = protection.enable(session, passphrase)
    ctx.emit(
        result,
        [
            tr(
                "Personal-data protection enabled ({a}, key {k}); {n} dossiers encrypted.",
                "已启用个人信息加密保护（{a}，密钥 {k}）；已加密 {n} 个案卷。",
                a=result["algorithm"],
                k=result["key_id"],
                n=result["sealed_rows"],
            ),
            tr(
                "Keep the passphrase safe: without it the personal data cannot be read. Back up the keys folder.",
                "请妥善保管口令：遗失后个人信息将无法读取。请备份 keys 目录。",
            ),
        ],
    )
    return 0


def cmd_protect_status(args, ctx) -> int:
    from scanstation.custody import protection

    session = _session(ctx)
    session.require("catalog.read")
    result = protection.status(session.home)
    if result["enabled"]:
        lines = [
            tr(
                "Protection: enabled ({a}, key {k}, {kdf})",
                "加密保护：已启用（{a}，密钥 {k}，{kdf}）",
                a=result["algorithm"],
                k=result["key_id"],
                kdf=result["kdf"],
            ),
            tr(
                "Encrypted dossiers: {e}; still in plain text: {p}",
                "已加密案卷：{e}；仍为明文：{p}",
                e=result["encrypted_rows"],
                p=result["plaintext_rows"],
            ),
            tr("Page images: encrypted at rest", "页面图像：已加密存储")
            if result["images_encrypted"]
            else tr(
                "Page images: not encrypted (scanstation protect images)",
                "页面图像：未加密（scanstation protect images）",
            ),
        ]
    else:
        lines = [
            tr(
                "Protection: not enabled ({p} dossiers with personal data in plain text).",
                "加密保护：未启用（{p} 个案卷的个人信息为明文）。",
                p=result["plaintext_rows"],
            )
        ]
    ctx.emit(result, lines)
    return 0


def cmd_protect_seal(args, ctx) -> int:
    from scanstation.custody import protection

    session = _session(ctx)
    session.require("keys.manage")
    key = _data_key(ctx, session, required=True)
    if key is None:
        protection.read_key_file(session.home)  # says protection is not enabled
    result = protection.seal(session, key)
    ctx.emit(
        result,
        tr(
            "{n} dossiers encrypted ({s} skipped: in an open destruction register).",
            "已加密 {n} 个案卷（跳过 {s} 个：在未办结的销毁清册中）。",
            n=result["sealed_rows"],
            s=result["skipped_rows_in_destruction_register"],
        ),
    )
    return 0


def cmd_protect_passphrase(args, ctx) -> int:
    from scanstation.custody import protection

    session = _session(ctx)
    session.require("keys.manage")
    old = password_from(PASSPHRASE_ENV, tr("Current protection passphrase: ", "当前保护口令："))
    new = password_from("SCANSTATION_NEW_PASSPHRASE", tr("New protection passphrase: ", "新的保护口令："), confirm=True)
    result = protection.change_passphrase(session, old, new)
    ctx.emit(
        result,
        tr(
            "Protection passphrase changed (key {k} unchanged).",
            "保护口令已修改（密钥 {k} 不变）。",
            k=result["key_id"],
        ),
    )
    return 0


def cmd_protect_images(args, ctx) -> int:
    from scanstation.custody import protection

    session = _session(ctx)
    session.require("keys.manage")
    protection.read_key_file(session.home)  # says protection is not enabled yet
    _data_key(ctx, session, required=True)
    result = protection.enable_images(session)
    ctx.emit(
        result,
        [
            tr(
                "Page images are encrypted at rest ({a}, key {k}).",
                "页面图像已加密存储（{a}，密钥 {k}）。",
                a=protection.ALGORITHM,
                k=result["key_id"],
            ),
            tr(
                "{n} stored files encrypted now ({m} MB); {o} were already encrypted.",
                "本次加密已存储文件 {n} 个（{m} MB）；{o} 个此前已加密。",
                n=result["files_encrypted"],
                m=round(result["bytes_encrypted"] / 1e6, 1),
                o=result["files_already_encrypted"],
            ),
            tr(
                "Backups made from now on hold encrypted images; keep the passphrase and the keys folder safe.",
                "此后的备份中图像均为加密形式；请妥善保管口令和 keys 目录。",
            ),
        ],
    )
    return 0


# -- retention / destruction ------------------------------------------------------------------
def cmd_retention_due(args, ctx) -> int:
    from datetime import date

    from scanstation.custody import retention_due

    session = _session(ctx)
    session.require("catalog.read")
    as_of = parse_date(args.as_of, "as-of date", "截止日期") if args.as_of else date.today()
    items = retention_due.due(session.catalog, as_of, fonds=session.home.fonds)
    lines = [tr("{n} dossiers due on {d}:", "截至 {d} 共 {n} 个案卷到期：", n=len(items), d=as_of.isoformat())]
    lines += [
        f"  {d.number}  {d.retention:<5} {tr('expired', '到期')} {d.expiry}  {d.status:<11} {d.title}"
        + (f"  [{d.register_no}]" if d.register_no else "")
        for d in items
    ]
    ctx.emit([d.as_dict() for d in items], lines)
    return 0


def cmd_destruction_propose(args, ctx) -> int:
    from scanstation.custody import destruction

    session = _session(ctx)
    result = destruction.propose(session, parse_date(args.as_of, "as-of date", "截止日期"), args.opinion, args.dossier)
    lines = [
        tr(
            "Destruction register {r} proposed: {n} dossiers, {p} pages. Register: {f}",
            "已提出销毁清册 {r}：{n} 个案卷，{p} 页。清册文件：{f}",
            r=result["register_no"],
            n=result["dossiers"],
            p=result["pages"],
            f=result["pdf"],
        ),
        tr(
            "Next: an administrator other than you approves it: scanstation destruction approve {r}",
            "下一步：由您以外的管理员批准：scanstation destruction approve {r}",
            r=result["register_no"],
        ),
    ]
    if result["skipped"]:
        lines.append(
            tr(
                "Not included (in another register or in a transfer): {s}",
                "未列入（已在其他清册或正在移交）：{s}",
                s=", ".join(s["number"] for s in result["skipped"]),
            )
        )
    ctx.emit(result, lines)
    return 0


def cmd_destruction_register(args, ctx) -> int:
    from scanstation.custody import destruction

    session = _session(ctx)
    result = destruction.export_register_pdf(session, args.id, args.out)
    ctx.emit(
        result, tr("Register {r} written to {f}.", "销毁清册 {r} 已输出到 {f}。", r=result["register_no"], f=args.out)
    )
    return 0


def cmd_destruction_approve(args, ctx) -> int:
    from scanstation.custody import destruction

    session = _session(ctx)
    result = destruction.approve(session, args.id)
    ctx.emit(
        result,
        tr(
            "Register {r} approved. Next: two supervisors each run: scanstation destruction execute {r} "
            "--method ... --date ...",
            "销毁清册 {r} 已批准。下一步：两名监销人分别执行：scanstation destruction execute {r} --method ... --date ...",
            r=result["register_no"],
        ),
    )
    return 0


def cmd_destruction_reject(args, ctx) -> int:
    from scanstation.custody import destruction

    session = _session(ctx)
    result = destruction.reject(session, args.id, args.reason)
    ctx.emit(
        result,
        tr(
            "Register {r} not approved; its dossiers are released.",
            "销毁清册 {r} 未获批准；其中案卷已解除锁定。",
            r=result["register_no"],
        ),
    )
    return 0


def cmd_destruction_execute(args, ctx) -> int:
    from scanstation.custody import destruction

    session = _session(ctx)
    result = destruction.execute(session, args.id, args.method, parse_date(args.date, "destruction date", "销毁日期"))
    if result["executed"]:
        text = tr(
            "Register {r} executed: {n} dossiers destroyed, {f} files ({b} bytes) removed; tombstones kept. "
            "Final register: {p}",
            "销毁清册 {r} 已执行：销毁 {n} 个案卷，删除 {f} 个文件（{b} 字节）；销毁记录永久保留。最终清册：{p}",
            r=result["register_no"],
            n=result["dossiers"],
            f=result["files"],
            b=result["bytes"],
            p=result["pdf"],
        )
    else:
        text = tr(
            "First supervisor recorded for {r}. A second, different supervisor must run the same command.",
            "已记录销毁清册 {r} 的第一位监销人。须由另一位监销人执行相同命令。",
            r=result["register_no"],
        )
    ctx.emit(result, text)
    return 0


def cmd_destruction_list(args, ctx) -> int:
    from scanstation.custody import destruction

    session = _session(ctx)
    session.require("catalog.read")
    rows = destruction.list_registers(session.catalog)
    ctx.emit(
        rows,
        [
            f"{r['id']:>4} {r['register_no']:<22} {r['state']:<9} {r['dossiers']:>5} "
            f"{tr('dossiers', '卷')}  {r['proposed_by']}→{r['decided_by'] or '-'}  {r['supervisors'] or ''}"
            for r in rows
        ]
        or tr("No destruction registers.", "没有销毁清册。"),
    )
    return 0


def cmd_correct(args, ctx) -> int:
    from scanstation.custody import corrections, protection

    session = _session(ctx)
    if args.field in protection.PERSONAL_FIELDS:
        _data_key(ctx, session, required=True)
    result = corrections.correct(session, args.number, args.field, args.value, args.reason)
    extra = tr(" (after transfer, logged as such)", "（移交后更正，已按此记录）") if result["after_transfer"] else ""
    ctx.emit(
        result,
        tr(
            "Corrected {f} of {n}{x}; the old value is kept (correction {c}).",
            "已更正 {n} 的 {f}{x}；原值已保留（更正记录 {c}）。",
            f=args.field,
            n=result["number"],
            x=extra,
            c=result["correction_id"],
        ),
    )
    return 0


# -- backups / fixity ---------------------------------------------------------------------------
def cmd_backup_create(args, ctx) -> int:
    from scanstation.custody import backups as backup

    session = _backup_session(ctx)
    result = backup.create(session, args.dest, rehash=args.rehash)
    lines = [
        tr(
            "Backup {g} created in {d}: {n} files, {b} bytes ({c} copied, {l} linked from the previous generation).",
            "已在 {d} 创建备份 {g}：{n} 个文件，{b} 字节（复制 {c} 个，其余 {l} 个链接自上一代）。",
            g=result.generation,
            d=args.dest,
            n=result.files,
            b=result.bytes,
            c=result.copied,
            l=result.linked,
        ),
        tr("Verify it with: scanstation backup verify {d}", "请校验：scanstation backup verify {d}", d=args.dest),
    ]
    lines += ["  ! " + w for w in result.warnings]
    ctx.emit(result.as_dict(), lines)
    return 0


def cmd_backup_verify(args, ctx) -> int:
    from scanstation.custody import backups as backup

    session = _backup_session(ctx)
    result = backup.verify(session, args.dest, args.generation)
    if result.ok:
        lines = [
            tr(
                "Backup verified: {g} generation(s), {n} files, every checksum matches.",
                "备份校验通过：{g} 代，{n} 个文件，全部校验值一致。",
                g=len(result.generations),
                n=result.files,
            )
        ]
    else:
        lines = [
            tr(
                "Backup verification FAILED: {m} mismatched, {x} missing, {u} unexpected files.",
                "备份校验未通过：{m} 个文件不一致，{x} 个缺失，{u} 个多余。",
                m=len(result.mismatched),
                x=len(result.missing),
                u=len(result.unexpected),
            )
        ]
        lines += [f"  {tr('mismatch', '不一致')}: {m['generation']}/{m['path']}" for m in result.mismatched]
        lines += [f"  {tr('missing', '缺失')}: {m['generation']}/{m['path']}" for m in result.missing]
        lines += [f"  {tr('unexpected', '多余')}: {m['generation']}/{m['path']}" for m in result.unexpected]
    if result.incomplete:
        lines.append(
            tr(
                "Incomplete generations (interrupted, ignored): {g}",
                "未完成的备份代（中断，已忽略）：{g}",
                g=", ".join(result.incomplete),
            )
        )
    ctx.emit(result.as_dict(), lines)
    return 0 if result.ok else 1


def cmd_backup_restore(args, ctx) -> int:
    from scanstation.custody import backups as backup
    from scanstation.errors import Refused

    name = getattr(args, "user", None) or os.environ.get("SCANSTATION_USER")
    if not name:
        raise Refused(
            "Restoring needs an administrator of the backed-up home: pass --user NAME.",
            "恢复需要被备份工作目录的管理员：请使用 --user 用户名。",
        )
    password = password_from("SCANSTATION_PASSWORD", tr("Password for {n}: ", "{n} 的密码：", n=name))
    server = {"db": args.db, "store": args.store, "endpoint": args.s3_endpoint, "credentials": args.credentials}
    result = backup.restore(args.dest, args.target, name, password, args.generation, **server)
    if result.get("backend") == "postgresql":
        ctx.emit(
            result,
            tr(
                "Generation {g} restored into {t} (a new database and page store): row counts of {n} tables equal, "
                "{o} store objects present with their digests; audit chain intact ({e} entries).",
                "已将备份 {g} 恢复到 {t}（新的数据库与页面存储）：{n} 个数据表的行数一致，{o} 个存储对象齐全且摘要一致；"
                "审计链完整（{e} 条）。",
                g=result["generation"],
                t=result["target"],
                n=len(result["tables"]),
                o=result["objects"],
                e=result["audit_entries"],
            ),
        )
        return 0
    ctx.emit(
        result,
        tr(
            "Generation {g} restored into {t}: {n} files checked; audit chain intact ({e} entries).",
            "已将备份 {g} 恢复到 {t}：校验 {n} 个文件；审计链完整（{e} 条）。",
            g=result["generation"],
            t=result["target"],
            n=result["files"],
            e=result["audit_entries"],
        ),
    )
    return 0


def cmd_backup_list(args, ctx) -> int:
    from scanstation.custody import backup

    rows = []
    for gen in backup.generations(args.dest):
        manifest = backup.load_manifest(gen)
        rows.append({"generation": gen.name, "created": manifest.get("created"), **manifest.get("totals", {})})
    ctx.emit(
        rows,
        [
            f"{r['generation']}  {r['created']}  {r.get('files', 0)} {tr('files', '个文件')}  "
            f"{r.get('bytes', 0)} {tr('bytes', '字节')}"
            for r in rows
        ]
        or tr("No backup generations.", "没有备份。"),
    )
    return 0


def cmd_backup_status(args, ctx) -> int:
    from scanstation.custody import backup

    session = _backup_session(ctx)
    session.require("backup")
    runs = session.catalog.query(
        "SELECT kind, dest, generation, user, finished_at, ok FROM backup_runs ORDER BY id DESC LIMIT 10"
    )
    remind = backup.reminder(session.home)
    data = {"last_verified_at": session.home.setting("backup.last_verified_at"), "reminder": remind, "runs": runs}
    lines = [
        tr("Last verified backup: {t}", "最近一次已校验的备份：{t}", t=data["last_verified_at"] or tr("never", "从未"))
    ]
    if remind:
        lines.append(tr(remind["en"], remind["zh"]))
    lines += [
        f"  {r['finished_at']} {r['kind']:<8} {'ok' if r['ok'] else 'FAILED'} {r['dest']} {r['generation']}"
        for r in runs
    ]
    ctx.emit(data, lines)
    return 0


def cmd_fixity_check(args, ctx) -> int:
    from scanstation.custody import fixity

    session = _session(ctx)
    result = fixity.check(session, args.sample, args.seed)
    lines = [
        tr(
            "Fixity check {r}: {c} of {t} pages re-hashed ({p}%{s}).",
            "完整性校验 {r}：已重新计算 {t} 页中的 {c} 页（{p}%{s}）。",
            r=result.run_id,
            c=result.checked,
            t=result.pages_total,
            p=result.sample_percent,
            s=f", seed {result.seed}" if result.seed is not None else "",
        )
    ]
    lines += [
        tr("  MISMATCH {n} page {s}: {f}", "  不一致 {n} 第 {s} 页：{f}", n=m["number"], s=m["seq"], f=m["file"])
        if m["number"]
        else tr("  MISMATCH store object {f}", "  不一致 存储对象 {f}", f=m["file"])  # a package record, a receipt
        for m in result.mismatched
    ]
    lines += [
        tr("  MISSING {n} page {s}: {f}", "  缺失 {n} 第 {s} 页：{f}", n=m["number"], s=m["seq"], f=m["file"])
        if m["number"]
        else tr("  MISSING store object {f}", "  缺失 存储对象 {f}", f=m["file"])
        for m in result.missing
    ]
    lines += [
        tr(
            "  NOT IN THE AUDIT TRAIL {n} page {s}: {f} — its catalog checksum was never recorded (the catalog "
            "was edited directly)",
            "  审计日志无记录 {n} 第 {s} 页：{f} — 目录中的校验值从未被审计记录（目录被直接修改过）",
            n=m["number"],
            s=m["seq"],
            f=m["file"],
        )
        for m in result.unrecorded
    ]
    lines.append(
        tr("All checksums match.", "全部校验值一致。")
        if result.ok
        else tr(
            "Problems found: restore these files from a backup and report to the administrator.",
            "发现问题：请从备份恢复这些文件并报告管理员。",
        )
    )
    ctx.emit(result.as_dict(), lines)
    return 0 if result.ok else 1


# -- lending ----------------------------------------------------------------------------------
def cmd_lend_request(args, ctx) -> int:
    from scanstation.custody import lending

    session = _session(ctx)
    result = lending.request(session, args.number, args.reason, args.days)
    ctx.emit(
        result,
        tr(
            "Loan {id} requested for {n} ({d} days); it needs an archivist's approval.",
            "已提交借阅单 {id}：{n}（{d} 天）；需档案人员批准。",
            id=result["id"],
            n=result["number"],
            d=args.days,
        ),
    )
    return 0


def cmd_lend_approve(args, ctx) -> int:
    from scanstation.custody import lending

    session = _session(ctx)
    result = lending.approve(session, args.id)
    ctx.emit(
        result,
        tr("Loan {id} approved until {d}.", "借阅单 {id} 已批准，有效期至 {d}。", id=result["id"], d=result["due_at"]),
    )
    return 0


def cmd_lend_reject(args, ctx) -> int:
    from scanstation.custody import lending

    session = _session(ctx)
    result = lending.reject(session, args.id, args.reason)
    ctx.emit(result, tr("Loan {id} rejected.", "借阅单 {id} 已退回。", id=result["id"]))
    return 0


def cmd_lend_export(args, ctx) -> int:
    from scanstation.custody import lending

    session = _session(ctx)
    _data_key(ctx, session, required=False)
    result = lending.export(session, args.id, args.out, fmt=args.format)
    ctx.emit(
        result,
        tr(
            "{p} watermarked pages of {n} exported to {f}.",
            "已将 {n} 的 {p} 页（带水印）导出到 {f}。",
            p=result["pages"],
            n=result["number"],
            f=result["folder"],
        ),
    )
    return 0


def cmd_lend_return(args, ctx) -> int:
    from scanstation.custody import lending

    session = _session(ctx)
    result = lending.return_loan(session, args.id)
    ctx.emit(result, tr("Loan {id} closed.", "借阅单 {id} 已归还。", id=result["id"]))
    return 0


def cmd_lend_list(args, ctx) -> int:
    from scanstation.custody import lending

    session = _session(ctx)
    rows = lending.list_loans(session, overdue=args.overdue)
    ctx.emit(
        rows,
        [
            f"{r['id']:>5} {r['number']}  {r['requester']:<12} {lending.STATE_ZH.get(r['state'], r['state'])}"
            f"  {r['due_at'][:16]}"
            for r in rows
        ]
        or tr("No loans.", "没有借阅单。"),
    )
    return 0


def cmd_report(args, ctx) -> int:
    from scanstation.custody import reports

    session = _session(ctx)
    result = reports.make(session, args.kind, args.out, since=args.since, until=args.until, as_of=args.as_of)
    ctx.emit(result, tr("Report written to {f}.", "报表已输出到 {f}。", f=result["file"]))
    return 0
