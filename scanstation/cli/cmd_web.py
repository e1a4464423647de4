"""The archive on the network: ``archive serve``; ``batch send ... --to https://...`` and ``receipt fetch``.

``batch send`` keeps delivering to a folder (share or USB drive) as before; with an https address it
uploads through ``scanstation.transfer.https_delivery``. The archive account for the upload is
``--remote-user`` / SCANSTATION_REMOTE_USER with SCANSTATION_REMOTE_PASSWORD (or a prompt).
"""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

from scanstation.errors import InvalidInput, NotFound, Refused
from scanstation.i18n import tr

DEFAULT_BIND = "127.0.0.1:8443"


def _subparsers_of(parser):
    import argparse

    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def register(sub) -> None:
    if "archive" in sub.choices:  # the group is shared with cmd_archive (archive init, migrate)
        archive = _subparsers_of(sub.choices["archive"])
    else:
        archive = sub.add_parser(
            "archive",
            help=tr("the archive room: network service, PostgreSQL archive", "档案室：网络服务、PostgreSQL 档案库"),
        ).add_subparsers(dest="archive_cmd", metavar="ACTION")
    p = archive.add_parser(
        "serve",
        help=tr("serve search, lending and package intake over HTTPS", "通过 HTTPS 提供检索、借阅与移交包接收服务"),
    )
    p.add_argument(
        "--bind",
        default=DEFAULT_BIND,
        metavar="HOST:PORT",
        help=tr("address to listen on (default 127.0.0.1:8443)", "监听地址（默认 127.0.0.1:8443）"),
    )
    p.add_argument("--tls-cert", metavar="FILE", help=tr("certificate (PEM)", "证书（PEM）"))
    p.add_argument("--tls-key", metavar="FILE", help=tr("private key (PEM)", "私钥（PEM）"))
    p.add_argument(
        "--workers",
        type=int,
        default=32,
        help=tr("worker threads answering requests (default 32)", "处理请求的工作线程数（默认 32）"),
    )
    p.set_defaults(run=cmd_serve)

    send = _subparsers_of(sub.choices["batch"]).choices["send"]
    send.add_argument(
        "--ca-file",
        metavar="FILE",
        help=tr("CA certificate of the archive (self-signed agency CA)", "档案室的 CA 证书（机构自签证书）"),
    )
    send.add_argument(
        "--remote-user",
        metavar="NAME",
        help=tr(
            "the station's account on the archive (or SCANSTATION_REMOTE_USER)",
            "本站在档案室的账户（或 SCANSTATION_REMOTE_USER）",
        ),
    )
    send.add_argument(
        "--chunk-mb", type=int, default=16, help=tr("upload chunk size in MiB (1-16)", "上传数据块大小 MiB（1-16）")
    )
    send.set_defaults(run=cmd_batch_send)

    receipt = _subparsers_of(sub.choices["receipt"])
    p = receipt.add_parser(
        "fetch",
        help=tr("fetch and import the receipt of a batch sent over HTTPS", "获取并导入经 HTTPS 发送的批次的回执"),
    )
    p.add_argument("batch_id", metavar="ID")
    p.add_argument(
        "--from",
        dest="url",
        metavar="URL",
        help=tr("archive address (default: where it was sent)", "档案室地址（默认：发送时的地址）"),
    )
    p.add_argument("--ca-file", metavar="FILE", help=tr("CA certificate of the archive", "档案室的 CA 证书"))
    p.add_argument(
        "--remote-user", metavar="NAME", help=tr("the station's account on the archive", "本站在档案室的账户")
    )
    p.set_defaults(run=cmd_receipt_fetch)


def parse_bind(text: str) -> tuple[str, int]:
    text = (text or "").strip()
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidInput(
            "--bind '{b}' is not HOST:PORT (e.g. 127.0.0.1:8443 or 0.0.0.0:8443).",
            "--bind “{b}” 不是 主机:端口 的形式（如 127.0.0.1:8443 或 0.0.0.0:8443）。",
            b=text,
        )
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_serve(args, ctx) -> int:
    import uvicorn

    from scanstation.web.app import create_app

    host, port = parse_bind(args.bind)
    if bool(args.tls_cert) != bool(args.tls_key):
        raise InvalidInput(
            "Give both --tls-cert and --tls-key, or neither.", "--tls-cert 与 --tls-key 须同时给出或都不给。"
        )
    tls = bool(args.tls_cert)
    for f in (args.tls_cert, args.tls_key):
        if f and not Path(f).is_file():
            raise NotFound("The file {f} does not exist.", "文件 {f} 不存在。", f=f)
    if not tls and not is_loopback(host):
        raise Refused(
            "Serving on {h} needs TLS: give --tls-cert and --tls-key (plain http only on 127.0.0.1).",
            "在 {h} 上提供服务需要 TLS：请给出 --tls-cert 和 --tls-key（仅 127.0.0.1 可用明文 http）。",
            h=host,
        )
    if not 1 <= args.workers <= 256:
        raise InvalidInput("--workers must be 1-256.", "--workers 须在 1-256 之间。")
    home = ctx.home()
    if home.info.role != "archive":
        raise Refused(
            "This home is a scanning station; the network service runs on an archive room's home "
            "(scanstation init --kind archive).",
            "此工作目录是扫描站；网络服务须运行在档案室的工作目录上（scanstation init --kind archive）。",
        )
    ctx._unlock_personal_data(home)
    app = create_app(home, tls=tls, threads=args.workers)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        ssl_certfile=args.tls_cert,
        ssl_keyfile=args.tls_key,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
        server_header=False,
    )
    scheme = "https" if tls else "http"
    print(
        tr(
            "Serving the archive {home} on {url} (Ctrl+C stops).",
            "档案服务 {home} 已在 {url} 运行（Ctrl+C 停止）。",
            home=str(home.path),
            url=f"{scheme}://{host}:{port}",
        ),
        file=sys.stderr,
        flush=True,
    )
    uvicorn.Server(config).run()
    return 0


def _remote(args) -> tuple[str, str]:
    from scanstation.users import password_from

    user = args.remote_user or os.environ.get("SCANSTATION_REMOTE_USER", "")
    if not user:
        raise Refused(
            "Name the station's account on the archive: --remote-user NAME or SCANSTATION_REMOTE_USER.",
            "请指定本站在档案室的账户：--remote-user 用户名 或 SCANSTATION_REMOTE_USER。",
        )
    password = password_from(
        "SCANSTATION_REMOTE_PASSWORD", tr("Archive password for {n}: ", "{n} 在档案室的密码：", n=user)
    )
    return user, password


def cmd_batch_send(args, ctx) -> int:
    if not str(args.to).lower().startswith(("https://", "http://")):
        from scanstation.cli.cmd_transfer import cmd_batch_send as send_to_folder

        return send_to_folder(args, ctx)
    from scanstation.transfer import https_delivery

    session = ctx.session()
    user, password = _remote(args)
    if not 1 <= args.chunk_mb <= 16:
        raise InvalidInput("--chunk-mb must be 1-16.", "--chunk-mb 须在 1-16 之间。")

    def on_retry(attempt, error, wait):
        ctx.warn(
            tr(
                "Attempt {n} failed ({e}); resuming in {w:.0f} s.",
                "第 {n} 次尝试失败（{e}）；{w:.0f} 秒后续传。",
                n=attempt,
                e=error,
                w=wait,
            )
        )

    result = https_delivery.send(
        session,
        args.batch_id,
        args.to,
        user=user,
        password=password,
        ca_file=args.ca_file,
        chunk_size=args.chunk_mb << 20,
        attempts=max(1, args.attempts),
        first_wait=args.wait,
        on_retry=on_retry,
    )
    verdict = {True: tr("passed", "通过"), False: tr("failed", "不通过"), None: tr("not finished", "未完成")}[
        None if result["checks_passed"] is None else bool(result["checks_passed"])
    ]
    ctx.emit(
        result,
        tr(
            "Batch {b} uploaded ({n} bytes, SM3 {d}…); the archive's four-property check: {v}; state at the "
            "archive: {s}. Fetch the receipt later with: scanstation receipt fetch {b}",
            "批次 {b} 已上传（{n} 字节，SM3 {d}…）；档案室四性检测：{v}；档案室状态：{s}。稍后用 scanstation receipt fetch {b} "
            "获取回执。",
            b=result["batch_id"],
            n=result["bytes"],
            d=result["upload_id"][:16],
            v=verdict,
            s=result["archive_state"],
        ),
    )
    return 0


def cmd_receipt_fetch(args, ctx) -> int:
    from scanstation.transfer import https_delivery

    session = ctx.session()
    user, password = _remote(args)
    result = https_delivery.fetch_receipt(
        session, args.batch_id, args.url, user=user, password=password, ca_file=args.ca_file
    )
    if result.get("already_imported"):
        line = tr(
            "The receipt {r} of batch {b} was already imported.",
            "批次 {b} 的回执 {r} 此前已导入。",
            r=result["receipt_id"],
            b=result["batch_id"],
        )
    else:
        line = tr(
            "Receipt {r} imported: batch {b} {d}, now {s}.",
            "已导入回执 {r}：批次 {b} {d}，当前状态 {s}。",
            r=result["receipt_id"],
            b=result["batch_id"],
            d=result["decision"],
            s=result["state"],
        )
    ctx.emit(result, line)
    return 0
