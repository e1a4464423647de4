"""Transfer commands: batch, outbox, keys, verify, receive, receipt, bag validate, demo."""

from __future__ import annotations

import json
from pathlib import Path

from scanstation.errors import InvalidInput
from scanstation.i18n import tr


def _leaf(group, name: str, help_en: str, help_zh: str, handler):
    p = group.add_parser(name, help=tr(help_en, help_zh))  # --json and the other global options: cli.parser
    p.set_defaults(run=handler)
    return p


def register(sub) -> None:
    batch = sub.add_parser("batch", help=tr("year-end transfer batches", "年度移交批次")).add_subparsers(
        dest="batch_cmd", metavar="ACTION"
    )
    p = _leaf(
        batch,
        "create",
        "create a batch of QC-approved dossiers of one year (R27)",
        "将某一年度已通过质检的案卷组成批次（R27）",
        cmd_batch_create,
    )
    p.add_argument("--year", type=int, required=True, help=tr("年度 of the dossiers", "案卷年度"))
    p.add_argument("--category", help=tr("only this category, e.g. ZY·DJ", "仅此类别，如 ZY·DJ"))
    p.add_argument(
        "--number", action="append", default=[], metavar="档号", help=tr("only these dossiers", "仅这些案卷")
    )
    p = _leaf(batch, "list", "list batches", "列出批次", cmd_batch_list)
    p.add_argument("--state", choices=["draft", "sealed", "sent", "received", "rejected", "cancelled"])
    p = _leaf(batch, "show", "show a batch", "显示批次", cmd_batch_show)
    p.add_argument("batch_id", metavar="ID")
    p = _leaf(
        batch,
        "seal",
        "seal and sign a draft batch into a BagIt package (passphrase: prompt or SCANSTATION_KEY_PASSPHRASE)",
        "将草稿批次封装为 BagIt 移交包并签名（口令：提示输入或 SCANSTATION_KEY_PASSPHRASE）",
        cmd_batch_seal,
    )
    p.add_argument("batch_id", metavar="ID")
    p.add_argument("--key", required=True, metavar="NAME", help=tr("the station's signing key", "本站签名密钥"))
    p.add_argument("--carrier", help=tr("carrier named in the register", "登记表中的载体"))
    p.add_argument(
        "--copy",
        action="append",
        choices=["pdf", "ofd"],
        default=[],
        help=tr(
            "also a double-layer {档号}.pdf/.ofd per dossier (repeatable)", "每个案卷另附双层 {档号}.pdf/.ofd（可重复）"
        ),
    )
    p = _leaf(
        batch,
        "send",
        "deliver a sealed package to a folder (share or drive)",
        "将已封装的移交包送达文件夹（共享目录或移动硬盘）",
        cmd_batch_send,
    )
    p.add_argument("batch_id", metavar="ID")
    p.add_argument(
        "--to", required=True, metavar="DIR", help=tr("destination folder (must exist)", "目标文件夹（须已存在）")
    )
    p.add_argument("--zip", action="store_true", help=tr("write one .zip file", "写成一个 .zip 文件"))
    p.add_argument(
        "--deflate",
        action="store_true",
        help=tr("deflate-compress the zip (default: stored)", "zip 使用 deflate 压缩（默认仅存储）"),
    )
    p.add_argument(
        "--attempts",
        type=int,
        default=5,
        help=tr("tries while the destination is unreachable", "目标不可达时的尝试次数"),
    )
    p.add_argument(
        "--wait",
        type=float,
        default=2.0,
        help=tr("first wait between tries, seconds (doubles)", "首次重试等待秒数（逐次加倍）"),
    )
    p = _leaf(
        batch,
        "cancel",
        "cancel a draft or sealed batch that was not sent",
        "撤销未发送的草稿或已封装批次",
        cmd_batch_cancel,
    )
    p.add_argument("batch_id", metavar="ID")

    outbox = sub.add_parser(
        "outbox", help=tr("packages kept in the outbox after sending (R38)", "发送后保留在发件箱中的移交包（R38）")
    ).add_subparsers(dest="outbox_cmd", metavar="ACTION")
    p = _leaf(
        outbox,
        "prune",
        "list (or with --apply remove) the packages of received batches sent more than sent_batches.keep_years ago",
        "列出（加 --apply 时删除）已接收且发送已满 sent_batches.keep_years 年的批次的移交包",
        cmd_outbox_prune,
    )
    p.add_argument(
        "--as-of", metavar="YYYY-MM-DD", help=tr("judge as of this date (default: today)", "按此日期判断（默认：今天）")
    )
    p.add_argument(
        "--apply",
        action="store_true",
        help=tr("remove them (default: a dry run that changes nothing)", "执行删除（默认仅预演，不做任何修改）"),
    )

    keys = sub.add_parser("keys", help=tr("signing keys and trusted keys", "签名密钥与受信任公钥")).add_subparsers(
        dest="keys_cmd", metavar="ACTION"
    )
    p = _leaf(
        keys,
        "generate",
        "generate a signing key (admin; passphrase: prompt or SCANSTATION_KEY_PASSPHRASE)",
        "生成签名密钥（管理员；口令：提示输入或 SCANSTATION_KEY_PASSPHRASE）",
        cmd_keys_generate,
    )
    p.add_argument("name")
    p.add_argument("--alg", choices=["sm2", "ed25519"], default="sm2")
    p = _leaf(keys, "export", "export a public key as PEM", "导出 PEM 格式公钥", cmd_keys_export)
    p.add_argument("name")
    p.add_argument("--out", required=True, metavar="FILE.pem")
    p = _leaf(keys, "trust", "trust the other side's public key (admin)", "信任对方的公钥（管理员）", cmd_keys_trust)
    p.add_argument("name")
    p.add_argument("pem", metavar="FILE.pem")
    p = _leaf(keys, "untrust", "remove a trusted key (admin)", "移除受信任的公钥（管理员）", cmd_keys_untrust)
    p.add_argument("name")
    _leaf(keys, "list", "list signing and trusted keys", "列出签名密钥与受信任公钥", cmd_keys_list)

    p = _leaf(
        sub,
        "verify",
        "four-property check of a transfer package (dir or .zip); exit 0 pass, 1 fail",
        "对移交包（目录或 .zip）进行四性检测；通过返回 0，不通过返回 1",
        cmd_verify,
    )
    p.add_argument("path", metavar="PATH")
    p.add_argument(
        "--report", metavar="DIR", help=tr("write the report (JSON + PDF) here", "报告（JSON + PDF）写入此目录")
    )
    p.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="FILE.pem",
        help=tr("trusted signer key (without a home, or in addition)", "受信任的签名公钥（无工作目录时，或额外添加）"),
    )
    p.add_argument(
        "--fixity-only",
        action="store_true",
        help=tr("BagIt, checksums and signature only", "仅检测 BagIt、校验值与签名"),
    )

    p = _leaf(
        sub,
        "receive",
        "check a package, draw the acceptance sample, accept or reject it with a signed receipt",
        "检测移交包、抽样检验，接收或退回并签发回执",
        cmd_receive,
    )
    p.add_argument("path", metavar="PATH")
    decision = p.add_mutually_exclusive_group()
    decision.add_argument("--accept", action="store_true", help=tr("accept into the archive", "接收入库"))
    decision.add_argument("--reject", action="store_true", help=tr("return it with the reasons", "退回并说明原因"))
    p.add_argument("--reason", action="append", default=[], help=tr("reason for returning it", "退回原因"))
    p.add_argument(
        "--finding",
        action="append",
        default=[],
        metavar="档号=TEXT",
        help=tr("a problem found while reviewing a dossier", "审查案卷时发现的问题"),
    )
    p.add_argument("--key", metavar="NAME", help=tr("the archive room's signing key", "档案室签名密钥"))
    p.add_argument("--seed", type=int, help=tr("sample seed (to reproduce a sample)", "抽样随机种子（用于复现抽样）"))
    p.add_argument("--out", metavar="DIR", help=tr("also write the receipt here", "回执另存到此目录"))
    p.add_argument("--report", metavar="DIR", help=tr("write the check report here", "检测报告写入此目录"))

    receipt = sub.add_parser("receipt", help=tr("receipts from the archive room", "档案室回执")).add_subparsers(
        dest="receipt_cmd", metavar="ACTION"
    )
    p = _leaf(
        receipt,
        "import",
        "import the archive room's signed receipt for a sent batch",
        "导入档案室为已发送批次签发的回执",
        cmd_receipt_import,
    )
    p.add_argument("file", metavar="FILE")

    bag = sub.add_parser("bag", help=tr("BagIt packages (RFC 8493)", "BagIt 包（RFC 8493）")).add_subparsers(
        dest="bag_cmd", metavar="ACTION"
    )
    p = _leaf(
        bag,
        "validate",
        "validate any BagIt bag; exit 0 valid, 1 invalid",
        "校验任意 BagIt 包；有效返回 0，无效返回 1",
        cmd_bag_validate,
    )
    p.add_argument("path", metavar="PATH")
    p.add_argument("--strict", action="store_true", help=tr("warnings count as problems", "警告视为问题"))
    p.add_argument(
        "--fast",
        action="store_true",
        help=tr("structure and Payload-Oxum only, no payload hashing", "仅检查结构与 Payload-Oxum，不重算数据文件"),
    )
    p.add_argument(
        "--require-tag-manifest", action="store_true", help=tr("a tag manifest must exist", "必须有标签清单")
    )

    # --home here names the folder for the two demo homes (default: a new temporary folder)
    p = _leaf(
        sub,
        "demo",
        "build a demo station and archive room and run a whole year-end transfer (--home DIR: folder "
        "for the two demo homes, default a new temporary folder)",
        "建立演示扫描站与档案室，完整演示一次年度移交（--home 目录：两个演示工作目录所在的文件夹，默认新建临时目录）",
        cmd_demo,
    )
    p.add_argument(
        "--postgresql",
        action="store_true",
        help=tr(
            "run the archive room on PostgreSQL and a page store (a private cluster in the demo's folder)",
            "档案室使用 PostgreSQL 与页面存储（在演示目录中启动私有集群）",
        ),
    )


# -- batches -------------------------------------------------------------------------------
def _batch_lines(b: dict) -> list[str]:
    from scanstation.transfer.batches import state_label

    return [
        tr(
            "Batch {id}: {state}, {d} dossiers, {i} images ({bytes} bytes), deadline {dl}",
            "批次 {id}：{state}，{d} 个案卷，{i} 个图像（{bytes} 字节），截止日期 {dl}",
            id=b["batch_id"],
            state=state_label(b["state"]),
            d=b["dossiers"],
            i=b["images"],
            bytes=b["image_bytes"],
            dl=b["deadline"],
        )
    ]


def cmd_batch_create(args, ctx) -> int:
    from scanstation.transfer import batches

    b = batches.create(ctx.session(), args.year, args.category, args.number or None)
    ctx.emit(b, _batch_lines(b))
    return 0


def cmd_batch_list(args, ctx) -> int:
    from scanstation.transfer import batches

    rows = batches.list_batches(ctx.session(), args.state)
    ctx.emit(rows, [line for b in rows for line in _batch_lines(b)] or tr("No batches.", "没有批次。"))
    return 0


def cmd_batch_show(args, ctx) -> int:
    from scanstation.transfer import batches

    b = batches.show(ctx.session(), args.batch_id)
    lines = _batch_lines(b)
    if b["package"]:
        lines.append(
            tr(
                "Package: {p} (tag manifest SM3 {d})",
                "移交包：{p}（标签清单 SM3 {d}）",
                p=b["package"],
                d=b["tagmanifest_sm3"],
            )
        )
    for d in b["dossier_list"]:
        lines.append(f"  {d['seq']:>4}  {d['number']}  {d['status']}  {d['title']}")
    for r in b["receipts"]:
        lines.append(
            tr(
                "Receipt {id}: {d} ({at})",
                "回执 {id}：{d}（{at}）",
                id=r["receipt_id"],
                d=r["decision"],
                at=r["issued_at"],
            )
        )
    ctx.emit(b, lines)
    return 0


def cmd_batch_seal(args, ctx) -> int:
    from scanstation.transfer import keys, seal

    session = ctx.session()
    result = seal.seal(
        session, args.batch_id, args.key, keys.passphrase(), carrier=args.carrier, copies=tuple(args.copy)
    )
    ctx.emit(
        result,
        [
            tr("Batch {b} sealed: {p}", "批次 {b} 已封装：{p}", b=result["batch_id"], p=result["package"]),
            tr(
                "  {d} dossiers, {i} images, {f} payload files, {n} bytes, in {s} s",
                "  {d} 个案卷，{i} 个图像，{f} 个数据文件，{n} 字节，用时 {s} 秒",
                d=result["dossiers"],
                i=result["images"],
                f=result["payload_files"],
                n=result["payload_bytes"],
                s=result["seconds"],
            ),
            tr(
                "  signed ({a}); tag manifest SM3 {t}",
                "  已签名（{a}）；标签清单 SM3 {t}",
                a=result["signature_algorithm"],
                t=result["tagmanifest_sm3"],
            ),
        ],
    )
    return 0


def cmd_batch_send(args, ctx) -> int:
    from scanstation.transfer import outbox

    session = ctx.session()

    def on_retry(attempt, error, wait):
        ctx.warn(
            tr(
                "Attempt {n} failed ({e}); trying again in {w:.0f} s.",
                "第 {n} 次尝试失败（{e}）；{w:.0f} 秒后重试。",
                n=attempt,
                e=error,
                w=wait,
            )
        )

    result = outbox.send(
        session,
        args.batch_id,
        args.to,
        as_zip=args.zip,
        deflate=args.deflate,
        attempts=args.attempts,
        first_wait=args.wait,
        on_retry=on_retry,
    )
    ctx.emit(
        result,
        tr(
            "Batch {b} sent to {p} ({n} bytes, verified on the destination).",
            "批次 {b} 已送达 {p}（{n} 字节，已在目标处逐字节校验）。",
            b=result["batch_id"],
            p=result["path"],
            n=result["bytes"],
        ),
    )
    return 0


def cmd_batch_cancel(args, ctx) -> int:
    from scanstation.transfer import batches

    b = batches.cancel(ctx.session(), args.batch_id)
    ctx.emit(
        b,
        tr(
            "Batch {b} cancelled; its dossiers are approved again.",
            "批次 {b} 已撤销；其案卷恢复为“质检通过”。",
            b=b["batch_id"],
        ),
    )
    return 0


def cmd_outbox_prune(args, ctx) -> int:
    from scanstation.transfer import outbox

    result = outbox.prune(ctx.session(), as_of=args.as_of, apply=args.apply)
    lines = [
        tr(
            "As of {d}, sent batches are kept {y} years after sending and until received (R38).",
            "截至 {d}：已发送批次在确认接收前、且发送后 {y} 年内保留（R38）。",
            d=result["as_of"],
            y=result["keep_years"],
        )
    ]
    for b in result["prunable"]:
        done = next((p for p in result["pruned"] if p["batch_id"] == b["batch_id"]), None)
        if done is None:
            lines.append(
                tr(
                    "  would remove {b}: {p} ({n} bytes) — {why}",
                    "  可删除 {b}：{p}（{n} 字节）— {why}",
                    b=b["batch_id"],
                    p=", ".join(b["paths"]),
                    n=b["bytes"],
                    why=b["why"],
                )
            )
        else:
            lines.append(
                tr("  removed {b}: {p}", "  已删除 {b}：{p}", b=b["batch_id"], p=", ".join(done["removed"]) or "—")
            )
    for b in result["kept"]:
        lines.append(tr("  keeps {b}: {why}", "  保留 {b}：{why}", b=b["batch_id"], why=b["why"]))
    if not result["prunable"] and not result["kept"]:
        lines.append(tr("  The outbox holds no package of a batch.", "  发件箱中没有批次的移交包。"))
    elif result["prunable"] and not result["apply"]:
        lines.append(
            tr(
                "Dry run: nothing was removed. To remove them: scanstation outbox prune --apply",
                "预演：未删除任何内容。如需删除：scanstation outbox prune --apply",
            )
        )
    ctx.emit(result, lines)
    for failure in result["failed"]:
        ctx.warn(failure["message"])
    return 1 if result["failed"] else 0


# -- keys -----------------------------------------------------------------------------------
def cmd_keys_generate(args, ctx) -> int:
    from scanstation.transfer import keys

    session = ctx.session()
    session.require("keys.manage")
    result = keys.generate(session, args.name, args.alg, keys.passphrase(confirm=True))
    ctx.emit(
        result,
        tr(
            "Key {n} generated ({a}); fingerprint {f}. Export its public key: scanstation keys export {n} --out FILE.pem",
            "已生成密钥 {n}（{a}）；指纹 {f}。导出公钥：scanstation keys export {n} --out 文件.pem",
            n=args.name,
            a=result["algorithm"],
            f=result["fingerprint"],
        ),
    )
    return 0


def cmd_keys_export(args, ctx) -> int:
    from scanstation.transfer import keys

    result = keys.export(ctx.session(), args.name, args.out)
    ctx.emit(
        result,
        tr(
            "Public key of {n} written to {f} (fingerprint {fp}).",
            "密钥 {n} 的公钥已写入 {f}（指纹 {fp}）。",
            n=args.name,
            f=result["file"],
            fp=result["fingerprint"],
        ),
    )
    return 0


def cmd_keys_trust(args, ctx) -> int:
    from scanstation.transfer import keys

    result = keys.trust(ctx.session(), args.name, args.pem)
    ctx.emit(
        result,
        tr(
            "Key {n} is trusted ({a}, fingerprint {f}).",
            "已信任公钥 {n}（{a}，指纹 {f}）。",
            n=result["name"],
            a=result["algorithm"],
            f=result["fingerprint"],
        ),
    )
    return 0


def cmd_keys_untrust(args, ctx) -> int:
    from scanstation.transfer import keys

    result = keys.untrust(ctx.session(), args.name)
    ctx.emit(result, tr("Key {n} is no longer trusted.", "已不再信任公钥 {n}。", n=args.name))
    return 0


def cmd_keys_list(args, ctx) -> int:
    from scanstation.transfer import keys

    ctx.session()
    result = keys.list_keys(ctx.home())
    lines = [tr("Signing keys:", "签名密钥：")]
    lines += [
        f"  {k['name']:<20} {k.get('algorithm', '?'):<8} {k.get('fingerprint', k.get('error', ''))}"
        for k in result["signing"]
    ]
    lines.append(tr("Trusted keys:", "受信任的公钥："))
    lines += [f"  {k['name']:<20} {k['algorithm']:<8} {k['fingerprint']}" for k in result["trusted"]]
    ctx.emit(result, lines)
    return 0


# -- archive room ---------------------------------------------------------------------------
def _optional_home(ctx):
    path = ctx.home_path()
    if (path / "station.json").exists():
        return ctx.home()
    return None


def _report_dir(home) -> Path:
    """Without --report: the home's reports folder, or a new temporary folder (never the current folder)."""
    if home is not None:
        return home.dir("reports")
    import tempfile

    return Path(tempfile.mkdtemp(prefix="scanstation-verify-"))


def cmd_verify(args, ctx) -> int:
    from scanstation import dossier_number
    from scanstation.transfer import keys, verify

    home = _optional_home(ctx)
    trust = keys.trust_list(home) if home else keys.trust_from_files([])
    for key in keys.trust_from_files(args.trust):
        trust.add(key.name, key.public_pem)
    schema = dossier_number.schema_for_home(home) if home else None
    catalog = home.catalog if home and home.info.role == "archive" else None
    report = verify.verify_package(
        Path(args.path),
        trust=trust,
        schema=schema,
        catalog=catalog,
        content=not args.fixity_only,
        work_dir=home.dir("inbox") if home else None,
    )
    out_dir = Path(args.report) if args.report else _report_dir(home)
    json_path, pdf_path = verify.write_report(report, out_dir)
    data = dict(report.to_dict(), report_files=[str(json_path), str(pdf_path)], report_dir=str(out_dir))
    ctx.emit(
        data,
        report.text_lines()
        + [
            tr(
                "Report written to {d}: {j}, {p}",
                "报告已写入 {d}：{j}，{p}",
                d=out_dir,
                j=json_path.name,
                p=pdf_path.name,
            )
        ],
    )
    return 0 if report.passed else 1


def _findings(items: list[str]) -> dict[str, list[str]]:
    from scanstation import dossier_number

    out: dict[str, list[str]] = {}
    for item in items:
        number, sep, text = item.partition("=")
        if not sep or not text.strip():
            raise InvalidInput("Write a finding as 档号=TEXT: {i}", "检验意见应写作 档号=说明：{i}", i=item)
        out.setdefault(dossier_number.normalise(number), []).append(text.strip())
    return out


def cmd_receive(args, ctx) -> int:
    from scanstation.transfer import keys, receive

    session = ctx.session()
    decision = "accept" if args.accept else "reject" if args.reject else None
    result = receive.receive(
        session,
        args.path,
        decision=decision,
        reasons=args.reason,
        key_name=args.key,
        passphrase=keys.passphrase() if decision else None,
        seed=args.seed,
        sample_findings=_findings(args.finding),
        out_dir=args.out,
        report_dir=args.report,
    )
    from scanstation.i18n import is_english

    lines = []
    for line in result["report"]["checks"]:
        if line["status"] in ("fail", "skipped", "explained"):  # explained: an R09/R10 difference the sender explained
            title, text = (line["title"], line["en"]) if is_english() else (line["title_zh"], line["zh"])
            lines.append(f"  [{line['status']}] {title} — {line['object']}: {text}")
    sample = result["sample"]
    lines.insert(
        0,
        tr(
            "Four-property check: {r}; report {f}",
            "四性检测：{r}；报告 {f}",
            r=tr("passed", "通过") if result["checks_passed"] else tr("FAILED", "不通过"),
            f=result["report_files"][0],
        ),
    )
    lines.append(
        tr(
            "Sample (seed {s}, {p} %): {d} — pass rate {r} %, {v}",
            "抽样（种子 {s}，{p} %）：{d} — 合格率 {r} %，{v}",
            s=sample["seed"],
            p=sample["percent"],
            d=", ".join(sample["dossiers"]),
            r=sample["pass_rate"],
            v=tr("passed", "合格") if sample["passed"] else tr("failed", "不合格"),
        )
    )
    if result["decision"] is None:
        lines.append(
            tr(
                "No decision taken: add --accept or --reject --reason TEXT.",
                "尚未作出决定：请加 --accept 或 --reject --reason 原因。",
            )
        )
        out = {k: v for k, v in result.items() if k != "receipt"}
        ctx.emit(out, lines)
        return 0 if result["checks_passed"] and sample["passed"] else 1
    lines.append(
        tr(
            "Package {d}; signed receipt: {f}",
            "移交包已{d_zh}；已签发回执：{f}",
            d=result["decision"],
            d_zh="接收" if result["decision"] == "accepted" else "退回",
            f=", ".join(result["receipt_files"][:2]),
        )
    )
    ctx.emit(result, lines)
    return 0


def cmd_receipt_import(args, ctx) -> int:
    from scanstation.transfer import receipts

    result = receipts.import_receipt(ctx.session(), args.file)
    lines = [
        tr(
            "Receipt {r} for batch {b}: {d}; the batch is now {s}.",
            "批次 {b} 的回执 {r}：{d}；批次现为 {s}。",
            r=result["receipt_id"],
            b=result["batch_id"],
            d=result["decision"],
            s=result["state"],
        )
    ]
    for status, numbers in result["dossiers"].items():
        if numbers:
            lines.append(f"  {status}: {', '.join(numbers)}")
    ctx.emit(result, lines)
    return 0


def cmd_bag_validate(args, ctx) -> int:
    from scanstation.transfer import bagit

    report = bagit.validate_bag(
        Path(args.path), fast=args.fast, strict=args.strict, require_tag_manifest=args.require_tag_manifest
    )
    lines = [
        tr(
            "{p}: valid BagIt {v} bag ({n} payload files)",
            "{p}：有效的 BagIt {v} 包（{n} 个数据文件）",
            p=args.path,
            v=report.version or "?",
            n=len(report.payload),
        )
        if report.valid
        else tr("{p}: NOT a valid bag", "{p}：不是有效的 BagIt 包", p=args.path)
    ]
    lines += [tr("  problem: {m}", "  问题：{m}", m=p.message) for p in report.problems]
    lines += [tr("  warning: {m}", "  警告：{m}", m=p.message) for p in report.warnings]
    ctx.emit(report.to_dict(), lines)
    return 0 if report.valid else 1


def cmd_demo(args, ctx) -> int:
    from scanstation import demo

    base = getattr(args, "home", None)
    result = demo.run(Path(base) if base else None, echo=None if ctx.json else print, postgresql=bool(args.postgresql))
    if ctx.json:
        print(json.dumps(result, ensure_ascii=False, default=str))
    return 0 if result.get("ok") else 1
