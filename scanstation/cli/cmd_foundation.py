"""Foundation commands: init, user, number, catalog, audit, reconcile."""

from __future__ import annotations

from scanstation import audit, settings
from scanstation.errors import NotFound, Refused
from scanstation.home import validate_code
from scanstation.i18n import tr
from scanstation.service import Session, add_user, list_users, present_dossier
from scanstation.users import ROLES, hash_password, parse_roles, password_from, validate_name, validate_password


def register(sub) -> None:
    p = sub.add_parser("init", help=tr("create a station home", "创建扫描站工作目录"))
    p.add_argument("--fonds", required=True, help=tr("fonds code (全宗号)", "全宗号"))
    p.add_argument("--station", required=True, help=tr("station id", "站点编号"))
    p.add_argument("--admin", required=True, help=tr("first administrator's user name", "首位管理员用户名"))
    p.add_argument(
        "--kind",
        choices=["station", "archive"],
        default="station",
        help=tr("a scanning station or an archive room", "扫描站或档案室"),
    )
    p.set_defaults(run=cmd_init)

    user = sub.add_parser("user", help=tr("users and roles", "用户与角色")).add_subparsers(
        dest="user_cmd", metavar="ACTION"
    )
    p = user.add_parser(
        "add",
        help=tr(
            "add a user (password from a prompt or SCANSTATION_NEW_PASSWORD)",
            "添加用户（密码来自提示或 SCANSTATION_NEW_PASSWORD）",
        ),
    )
    p.add_argument("name")
    p.add_argument(
        "--role", required=True, help=" | ".join(ROLES) + tr(" (several: comma separated)", "（多个用逗号分隔）")
    )
    p.set_defaults(run=cmd_user_add)
    p = user.add_parser("list", help=tr("list users", "列出用户"))
    p.set_defaults(run=cmd_user_list)
    p = user.add_parser("disable", help=tr("disable a user", "停用用户"))
    p.add_argument("name")
    p.set_defaults(run=cmd_user_disable)
    p = user.add_parser("password", help=tr("set a user's password", "设置用户密码"))
    p.add_argument("name")
    p.set_defaults(run=cmd_user_password)

    number = sub.add_parser("number", help=tr("档号 rules", "档号规则")).add_subparsers(
        dest="number_cmd", metavar="ACTION"
    )
    p = number.add_parser("check", help=tr("check 档号 against the schema", "按档号规则检查档号"))
    p.add_argument("numbers", nargs="+", metavar="档号")
    p.set_defaults(run=cmd_number_check)

    catalog = sub.add_parser("catalog", help=tr("the dossier catalog", "档案目录")).add_subparsers(
        dest="catalog_cmd", metavar="ACTION"
    )
    p = catalog.add_parser(
        "import",
        help=tr("import a 目录 (.xlsx or .csv), all or nothing", "导入目录（.xlsx 或 .csv），全部成功或全部不导入"),
    )
    p.add_argument("file")
    p.set_defaults(run=cmd_catalog_import)
    p = catalog.add_parser("show", help=tr("show one dossier", "显示一个案卷"))
    p.add_argument("number", metavar="档号")
    p.add_argument(
        "--unmasked", action="store_true", help=tr("show the full ID number (logged)", "显示完整身份证号（记入审计）")
    )
    p.set_defaults(run=cmd_catalog_show)
    p = catalog.add_parser("list", help=tr("list dossiers", "列出案卷"))
    p.add_argument("--status")
    p.add_argument("--year", type=int)
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--offset", type=int, default=0)
    p.add_argument(
        "--after",
        metavar="档号",
        help=tr("start after this 档号 (the next page; fast at any depth)", "从此档号之后开始（翻页；任何位置都很快）"),
    )
    p.set_defaults(run=cmd_catalog_list)

    aud = sub.add_parser("audit", help=tr("the audit trail", "审计日志")).add_subparsers(
        dest="audit_cmd", metavar="ACTION"
    )
    p = aud.add_parser(
        "verify", help=tr("check the audit chain and its signed checkpoints", "校验审计链及其签名检查点")
    )
    p.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="PATH",
        help=tr(
            "also compare with checkpoints kept elsewhere: a checkpoint or receipt file, a package, "
            "a backup (repeatable)",
            "同时与别处保存的检查点比对：检查点或回执文件、移交包、备份（可重复）",
        ),
    )
    p.set_defaults(run=cmd_audit_verify)
    p = aud.add_parser(
        "checkpoint",
        help=tr(
            "sign a checkpoint of the audit chain's head (admin; key passphrase: prompt or SCANSTATION_KEY_PASSPHRASE)",
            "为审计链的当前末端签署检查点（管理员；密钥口令：提示输入或 SCANSTATION_KEY_PASSPHRASE）",
        ),
    )
    p.add_argument("--key", required=True, help=tr("signing key name", "签名密钥名称"))
    p.set_defaults(run=cmd_audit_checkpoint)
    p = aud.add_parser("log", help=tr("show audit entries", "显示审计记录"))
    p.add_argument("--filter-user", dest="filter_user", metavar="NAME")
    p.add_argument("--dossier", metavar="档号")
    p.add_argument("--since")
    p.add_argument("--until")
    p.add_argument("--limit", type=int, default=100)
    p.set_defaults(run=cmd_audit_log)

    p = sub.add_parser(
        "reconcile", help=tr("compare image files and catalog after a crash", "崩溃后核对图像文件与目录")
    )
    p.set_defaults(run=cmd_reconcile)


# -- init / users ------------------------------------------------------------------------
def cmd_init(args, ctx) -> int:
    from scanstation.service import init_home

    validate_code(args.fonds, "Fonds code", "全宗号")  # say what is wrong before asking for a password
    validate_code(args.station, "Station id", "站点编号")
    admin = validate_name(args.admin)
    password = validate_password(
        password_from("SCANSTATION_NEW_PASSWORD", tr("New password for {n}: ", "{n} 的新密码：", n=admin), confirm=True)
    )
    home = init_home(ctx.home_path(), args.fonds, args.station, admin, password, kind=args.kind)
    ctx.adopt(home)
    fonds, station = home.fonds, home.station
    ctx.emit(
        {"home": str(home.path), "fonds": fonds, "station": station, "admin": admin, "kind": args.kind},
        tr(
            "Station home created at {p} (fonds {f}, station {s}, administrator {a}).",
            "已创建扫描站工作目录 {p}（全宗号 {f}，站点 {s}，管理员 {a}）。",
            p=home.path,
            f=fonds,
            s=station,
            a=admin,
        ),
    )
    return 0


def cmd_user_add(args, ctx) -> int:
    session = ctx.session()
    roles = parse_roles(args.role)
    session.require("user.manage")
    password = password_from(
        "SCANSTATION_NEW_PASSWORD", tr("New password for {n}: ", "{n} 的新密码：", n=args.name), confirm=True
    )
    add_user(session, args.name, roles, password)
    ctx.emit(
        {"name": args.name, "roles": list(roles)},
        tr("User {n} added ({r}).", "已添加用户 {n}（{r}）。", n=args.name, r=", ".join(roles)),
    )
    return 0


def cmd_user_list(args, ctx) -> int:
    session = ctx.session()
    rows = list_users(session)
    ctx.emit(
        [{**r, "roles": r["roles"].split(), "disabled": bool(r["disabled"])} for r in rows],
        [f"{r['name']:<20} {r['roles']:<30} {tr('disabled', '已停用') if r['disabled'] else ''}" for r in rows],
    )
    return 0


def cmd_user_disable(args, ctx) -> int:
    session = ctx.session()
    row = session.catalog.one("SELECT * FROM users WHERE name = ?", (args.name,))
    if row is None:
        raise NotFound("No user named '{name}'.", "用户“{name}”不存在。", name=args.name)
    if args.name == session.user.name:
        raise Refused("You cannot disable your own account.", "不能停用自己的账户。")
    with session.change("user.manage", "user.disable", "user", args.name) as ch:
        ch.conn.execute("UPDATE users SET disabled = 1 WHERE name = ?", (args.name,))
        ch.before, ch.after = {"disabled": bool(row["disabled"])}, {"disabled": True}
    ctx.emit({"name": args.name, "disabled": True}, tr("User {n} disabled.", "已停用用户 {n}。", n=args.name))
    return 0


def cmd_user_password(args, ctx) -> int:
    session = ctx.session()
    if args.name != session.user.name:
        session.require("user.manage")
    if not session.catalog.one("SELECT id FROM users WHERE name = ?", (args.name,)):
        raise NotFound("No user named '{name}'.", "用户“{name}”不存在。", name=args.name)
    password = validate_password(
        password_from(
            "SCANSTATION_NEW_PASSWORD", tr("New password for {n}: ", "{n} 的新密码：", n=args.name), confirm=True
        )
    )
    with session.change(None, "user.password", "user", args.name) as ch:
        ch.conn.execute("UPDATE users SET password_hash = ? WHERE name = ?", (hash_password(password), args.name))
        ch.after = {"password": "changed"}
    ctx.emit({"name": args.name}, tr("Password changed.", "密码已修改。"))
    return 0


# -- 档号 ---------------------------------------------------------------------------------
def cmd_number_check(args, ctx) -> int:
    from scanstation import dossier_number

    schema = None
    try:
        schema = dossier_number.schema_for_home(ctx.home())
    except Exception:  # no home yet: check against the default schema
        schema = dossier_number.default_schema()
    results, bad = [], 0
    for text in args.numbers:
        found = dossier_number.problems(text, schema)
        normal = dossier_number.normalise(text)
        results.append(
            {
                "number": text,
                "normalised": normal,
                "valid": not found,
                "problems": [{"field": p.field, "reason": str(p)} for p in found],
            }
        )
        bad += bool(found)
    lines = []
    for r in results:
        if r["valid"]:
            extra = (
                ""
                if r["normalised"] == r["number"]
                else tr(" (normalised to {n})", "（规范化为 {n}）", n=r["normalised"])
            )
            lines.append(tr("{n}: valid{e}", "{n}：有效{e}", n=r["number"], e=extra))
        else:
            lines.append(
                tr(
                    "{n}: invalid — {why}",
                    "{n}：无效 — {why}",
                    n=r["number"],
                    why="; ".join(p["reason"] for p in r["problems"]),
                )
            )
    ctx.emit(results, lines)
    return 1 if bad else 0


# -- catalog ------------------------------------------------------------------------------
def cmd_catalog_import(args, ctx) -> int:
    from scanstation import catalog_import

    session = ctx.session()
    try:
        result = catalog_import.import_catalog(session, args.file)
    except catalog_import.CatalogImportRejected as rejected:
        rows = [p.as_dict() if hasattr(p, "as_dict") else p.__dict__ for p in rejected.problems]
        if ctx.json:
            ctx.emit({"imported": 0, "problems": rows})
        else:
            print(rejected.message)
            for p in rejected.problems:
                print("  " + str(p))
        return 1
    lines = [tr("{n} dossiers imported from {f}.", "已从 {f} 导入 {n} 个案卷。", n=result.count, f=args.file)]
    if result.ignored_columns:
        lines.append(tr("Columns not imported: {c}", "未导入的列：{c}", c=", ".join(map(str, result.ignored_columns))))
    ctx.emit(
        {
            "imported": result.count,
            "file": str(args.file),
            "header_row": result.header_row,
            "ignored_columns": list(result.ignored_columns),
        },
        lines,
    )
    return 0


def _dossier(session: Session, number: str) -> dict:
    from scanstation import dossier_number

    row = session.catalog.one("SELECT * FROM dossiers WHERE number = ?", (number,))
    if row is None:
        row = session.catalog.one("SELECT * FROM dossiers WHERE number = ?", (dossier_number.normalise(number),))
    if row is None:
        raise NotFound(
            "No dossier {n} in the catalog. Check the number or import the 目录 first.",
            "目录中没有档号 {n}。请核对档号或先导入目录。",
            n=number,
        )
    return row


def cmd_catalog_show(args, ctx) -> int:
    session = ctx.session()
    session.require("catalog.read")
    row = _dossier(session, args.number)
    if args.unmasked:
        session.require("personal.unmasked")
        session.log("personal.view", "dossier", row["number"], {"field": "person_id_number"})
    out = present_dossier(session, row, unmasked=args.unmasked)
    pages = session.catalog.one(
        "SELECT count(*) AS n FROM pages WHERE dossier_id = ? AND state = 'active'", (row["id"],)
    )
    out["scanned_pages"] = pages["n"]
    labels = [
        ("档号", "number"),
        ("题名", "title"),
        ("全宗号", "fonds_code"),
        ("年度", "year"),
        ("保管期限", "retention"),
        ("责任者", "responsible"),
        ("日期", "date"),
        ("页数", "declared_pages"),
        ("已扫描", "scanned_pages"),
        ("密级", "security_level"),
        ("险种", "insurance_type"),
        ("业务环节", "business_stage"),
        ("盒号", "box_no"),
        ("姓名", "person_name"),
        ("身份证号", "person_id_number"),
        ("单位名称", "employer"),
        ("状态", "status"),
        ("备注", "remarks"),
    ]
    ctx.emit(out, [f"{label}: {out.get(key, '')}" for label, key in labels])
    return 0


def cmd_catalog_list(args, ctx) -> int:
    from scanstation.dossier_list import list_dossiers

    session = ctx.session()
    session.require("catalog.read")
    page = list_dossiers(
        session.catalog,
        session.home.fonds,
        status=args.status,
        year=args.year,
        after=args.after,
        limit=args.limit,
        offset=args.offset,
    )
    rule = settings.id_mask_rule(session.home)
    rows = [present_dossier(session, r, rule=rule) for r in page.rows]
    lines = [f"{r['number']}  {r['status']:<11} {r['declared_pages'] or '':>4}  {r['title']}" for r in rows]
    if page.next_after:
        lines.append(tr("Next page: --after {n}", "下一页：--after {n}", n=page.next_after))
    ctx.emit(rows, lines)
    return 0


# -- audit / reconcile ---------------------------------------------------------------------
def cmd_audit_verify(args, ctx) -> int:
    from scanstation import audit_anchor

    home = ctx.home()
    report = audit.verify(home.catalog.conn)
    anchors = audit_anchor.verify(home, getattr(args, "checkpoint", None))
    data = {
        "ok": report.ok and anchors.ok,
        "entries": report.entries,
        "broken_id": report.broken_id,
        "reason": report.reason_en if ctx.json else None,
        "checkpoints": anchors.anchored,
        "anchored_up_to": anchors.latest_seq,
        "checkpoint_failures": [
            {"source": r.source, "seq": r.seq, "status": r.status, "en": r.en, "zh": r.zh} for r in anchors.failures()
        ],
    }
    lines = []
    if report.ok:
        lines.append(tr("Audit chain intact: {n} entries.", "审计链完整：共 {n} 条记录。", n=report.entries))
    else:
        lines.append(
            tr(
                "Audit chain BROKEN at entry {i}: {r}. Report this to the auditor; do not change anything.",
                "审计链在第 {i} 条记录处断裂：{r}。请报告审计员，不要做任何修改。",
                i=report.broken_id,
                r=tr(report.reason_en, report.reason_zh),
            )
        )
    for r in anchors.failures():
        lines.append(
            tr(
                "Checkpoint check FAILED ({s}): {m} Report this to the auditor; do not change anything.",
                "检查点比对不通过（{s}）：{m} 请报告审计员，不要做任何修改。",
                s=r.source,
                m=tr(r.en, r.zh),
            )
        )
    if anchors.ok:
        lines.append(
            tr(
                "Signed checkpoints: {n}, matching up to entry {k}; entries after the newest checkpoint are "
                "not yet anchored.",
                "签名检查点：{n} 个，至第 {k} 条均一致；最新检查点之后的记录尚未锚定。",
                n=anchors.anchored,
                k=anchors.latest_seq,
            )
            if anchors.anchored
            else tr(
                "No signed checkpoint yet: make one with scanstation audit checkpoint --key NAME.",
                "尚无签名检查点：请执行 scanstation audit checkpoint --key 名称。",
            )
        )
    ctx.emit(data, lines)
    return 0 if data["ok"] else 1


def cmd_audit_checkpoint(args, ctx) -> int:
    from scanstation import audit_anchor
    from scanstation.transfer import keys

    session = ctx.session()
    session.require("keys.manage")
    result = audit_anchor.create(session, args.key, keys.passphrase())
    ctx.emit(
        result,
        tr(
            "Checkpoint signed: entry {s}, head {h}….",
            "检查点已签署：第 {s} 条，末端哈希 {h}…。",
            s=result["seq"],
            h=result["head"][:16],
        ),
    )
    return 0


def cmd_audit_log(args, ctx) -> int:
    session = ctx.session()
    session.require("audit.read")
    where, params = [], []
    if args.filter_user:
        where.append("user = ?")
        params.append(args.filter_user)
    if args.dossier:
        where.append("object_id = ?")
        params.append(args.dossier)
    if args.since:
        where.append("ts >= ?")
        params.append(args.since)
    if args.until:
        where.append("ts <= ?")
        params.append(args.until)
    sql = "SELECT id, ts, user, station, action, object_type, object_id, before, after FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = session.catalog.query(sql + " ORDER BY id DESC LIMIT ?", params + [args.limit])
    rows.reverse()
    from scanstation.custody.audit_export import protect_row
    from scanstation.custody.protection import unlocked_key

    full = session.can("audit.read_protected")  # personal values only for the auditor (R40)
    rule = settings.id_mask_rule(session.home)
    rows = [protect_row(r, full, unlocked_key(session.home), rule) for r in rows]
    ctx.emit(
        rows,
        [f"{r['id']:>6} {r['ts']} {r['user']:<12} {r['action']:<20} {r['object_type']}:{r['object_id']}" for r in rows],
    )
    return 0


def cmd_reconcile(args, ctx) -> int:
    from scanstation.storage.image_store import ImageStore

    session = ctx.session()
    session.require("settings.manage")
    from scanstation.storage import file_moves

    file_moves.apply(session.home.path, session.catalog)  # what a crash left in flight goes to its place first
    report = ImageStore(session.home.path).reconcile(session.catalog)
    if not report.clean:
        session.log("store.reconcile", "home", session.home.fonds, report.as_dict())
    lines = [
        tr(
            "Files without a catalog row (moved to quarantine): {n}",
            "无目录记录的文件（已移入隔离区）：{n}",
            n=len(report.orphan_files),
        ),
        tr(
            "Unfinished temporary files (moved to quarantine): {n}",
            "未完成的临时文件（已移入隔离区）：{n}",
            n=len(report.partial_files),
        ),
        tr("Catalog rows whose file is missing: {n}", "文件缺失的目录记录：{n}", n=len(report.missing_files)),
    ]
    lines += [f"  {m['number']} #{m['seq']}: {m['file']}" for m in report.missing_files]
    ctx.emit(report.as_dict(), lines)
    return 1 if report.missing_files else 0
