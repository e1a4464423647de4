"""The archive room at scale: ``archive init`` makes an archive home on PostgreSQL and a page store."""

from __future__ import annotations

from scanstation.i18n import tr
from scanstation.users import password_from, validate_name, validate_password


def register(sub) -> None:
    if "archive" in sub.choices:  # the group is shared with cmd_web (archive serve)
        import argparse

        archive = next(a for a in sub.choices["archive"]._actions if isinstance(a, argparse._SubParsersAction))
    else:
        archive = sub.add_parser(
            "archive",
            help=tr("the archive room: network service, PostgreSQL archive", "档案室：网络服务、PostgreSQL 档案库"),
        ).add_subparsers(dest="archive_cmd", metavar="ACTION")
    p = archive.add_parser(
        "init",
        help=tr(
            "create (or join) an archive on PostgreSQL with a page store, and write the "
            "archive home (--home) that names them",
            "创建（或加入）PostgreSQL 档案库及页面存储，并写入指向它们的档案工作目录（--home）",
        ),
    )
    p.add_argument("--station", required=True, help=tr("this desk's station id", "本工作台的站点编号"))
    p.add_argument(
        "--fonds", help=tr("the archive's fonds code (default: the station id)", "档案馆全宗号（默认：站点编号）")
    )
    p.add_argument("--admin", required=True, help=tr("administrator's user name", "管理员用户名"))
    p.add_argument(
        "--db",
        required=True,
        metavar="postgresql://…",
        help=tr(
            "the PostgreSQL database (no password: PGPASSWORD or --credentials)",
            "PostgreSQL 数据库（不含口令：用 PGPASSWORD 或 --credentials）",
        ),
    )
    p.add_argument(
        "--store",
        required=True,
        metavar="/mnt/archive | s3://bucket/prefix",
        help=tr("where page files are kept", "页面文件的存储位置"),
    )
    p.add_argument(
        "--s3-endpoint",
        metavar="URL",
        help=tr("S3-compatible endpoint (Ceph RGW, appliance)", "S3 兼容端点（Ceph RGW、对象存储设备）"),
    )
    p.add_argument(
        "--credentials",
        metavar="FILE",
        help=tr(
            "a mode-0600 file of PGPASSWORD= / AWS_ACCESS_KEY_ID= / AWS_SECRET_ACCESS_KEY= lines",
            "权限 0600 的凭据文件（PGPASSWORD= / AWS_ACCESS_KEY_ID= / AWS_SECRET_ACCESS_KEY= 行）",
        ),
    )
    p.set_defaults(run=cmd_archive_init)
    p = archive.add_parser(
        "migrate",
        help=tr(
            "move a SQLite archive home into this PostgreSQL archive and its page store "
            "(verified file by file; run again after an interruption)",
            "将 SQLite 档案工作目录迁入本 PostgreSQL 档案库及页面存储（逐个文件校验；中断后可重新执行）",
        ),
    )
    p.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="HOME",
        help=tr("the SQLite archive home", "SQLite 档案工作目录"),
    )
    p.add_argument(
        "--to",
        dest="target",
        metavar="ARCH",
        help=tr("the archive home on PostgreSQL (default: --home)", "PostgreSQL 档案工作目录（默认：--home）"),
    )
    p.set_defaults(run=cmd_archive_migrate)
    p = archive.add_parser(
        "sweep",
        help=tr(
            "remove page-store objects nothing in the catalog names (left by an interrupted intake)",
            "清理页面存储中目录未引用的对象（中断的接收留下的）",
        ),
    )
    p.add_argument(
        "--older-than",
        metavar="HOURS",
        default="72",
        help=tr("only objects last changed this many hours ago or earlier (default 72, at least 1)",
                "仅清理最后修改于该小时数之前的对象（默认 72，至少 1）"),
    )  # fmt: skip
    p.add_argument(
        "--dry-run", action="store_true", help=tr("list what would be removed; change nothing", "仅列出，不删除")
    )
    p.set_defaults(run=cmd_archive_sweep)


def cmd_archive_init(args, ctx) -> int:
    from scanstation.home import validate_code
    from scanstation.service import init_archive
    from scanstation.storage import archive_backend
    from scanstation.storage.page_store import open_store
    from scanstation.storage.pg_catalog import redact

    station = validate_code(args.station, "Station id", "站点编号")  # say what is wrong before asking for a password
    fonds = validate_code(args.fonds or station, "Fonds code", "全宗号")
    admin = validate_name(args.admin)
    archive_backend.check_dsn(args.db)
    open_store(args.store, args.s3_endpoint)
    password = validate_password(
        password_from("SCANSTATION_NEW_PASSWORD", tr("Password for {n}: ", "{n} 的密码：", n=admin), confirm=True)
    )
    home = init_archive(
        ctx.home_path(),
        fonds,
        station,
        admin,
        password,
        dsn=args.db,
        store=args.store,
        endpoint=args.s3_endpoint,
        credentials=args.credentials,
    )
    ctx.adopt(home)
    ctx.emit(
        {
            "home": str(home.path),
            "fonds": fonds,
            "station": station,
            "admin": admin,
            "backend": "postgresql",
            "db": redact(args.db),
            "store": args.store,
        },
        tr(
            "Archive home created at {p}: catalog on {db}, page files in {s} (station {st}, administrator {a}).",
            "已创建档案工作目录 {p}：目录库 {db}，页面文件存于 {s}（站点 {st}，管理员 {a}）。",
            p=home.path,
            db=redact(args.db),
            s=args.store,
            st=station,
            a=admin,
        ),
    )
    return 0


def cmd_archive_migrate(args, ctx) -> int:
    from scanstation.transfer.migrate_archive import migrate

    if args.target:
        ctx.args.home = args.target
    result = migrate(ctx.session(), args.source)
    ctx.emit(result, result["message"])
    return 0


def cmd_archive_sweep(args, ctx) -> int:
    from scanstation.custody.store_sweep import sweep

    result = sweep(ctx.session(), args.older_than, dry_run=args.dry_run)
    mb = result["bytes"] / 1e6
    if result["dry_run"]:
        text = tr(
            "{n} of {c} objects older than {h} hours are named by nothing in the catalog ({mb:.1f} MB); "
            "run without --dry-run to remove them.",
            "{c} 个早于 {h} 小时的对象中有 {n} 个未被目录引用（{mb:.1f} MB）；去掉 --dry-run 即可删除。",
            n=result["unnamed"],
            c=result["objects_checked"],
            h=f"{result['older_than_hours']:g}",
            mb=mb,
        )
        lines = [text, *result["objects"]]
    else:
        lines = [
            tr(
                "Removed {n} objects ({mb:.1f} MB) that nothing in the catalog named; {k} kept because a package "
                "received meanwhile names them; {t} unfinished writes removed.",
                "已删除 {n} 个目录未引用的对象（{mb:.1f} MB）；{k} 个因期间接收的移交包引用而保留；"
                "已清除 {t} 个未完成的写入。",
                n=len(result["removed"]),
                mb=mb,
                k=len(result["kept"]),
                t=result["tmp_removed"],
            )
        ]
    ctx.emit(result, lines)
    return 0
