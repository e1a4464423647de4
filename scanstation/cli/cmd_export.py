"""Export commands: double-layer PDF / PDF/A, OFD, the 数据挂接 catalog export, DA/T 48 EEP packages,
and the check of such files."""

from __future__ import annotations

import argparse
from pathlib import Path

from scanstation.i18n import is_english, tr


def _json_flag(p) -> None:
    p.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help=tr("print data as JSON", "以 JSON 输出")
    )


def _leaf(group, name: str, help_en: str, help_zh: str, handler):
    p = group.add_parser(name, help=tr(help_en, help_zh))
    _json_flag(p)
    p.set_defaults(run=handler)
    return p


def register(sub) -> None:
    group = sub.add_parser(
        "export",
        help=tr(
            "copies and exports for archive systems (PDF, OFD, 数据挂接, EEP)",
            "供利用与档案系统接收的导出（PDF、OFD、数据挂接、EEP）",
        ),
    ).add_subparsers(dest="export_cmd", metavar="ACTION")
    p = _leaf(
        group,
        "pdf",
        "double-layer PDF per dossier (image + invisible OCR text)",
        "按案卷输出双层 PDF（图像 + 隐藏 OCR 文本）",
        cmd_export_pdf,
    )
    p.add_argument("numbers", nargs="+", metavar="档号")
    p.add_argument("--pdfa", action="store_true", help=tr("PDF/A-2b", "输出 PDF/A-2b"))
    p.add_argument("--watermark", metavar="TEXT", help=tr("visible watermark on every page", "每页加可见水印"))
    p.add_argument(
        "--out",
        required=True,
        metavar="DIR|FILE",
        help=tr("folder, or a .pdf file for one dossier", "目录；单个案卷时可为 .pdf 文件"),
    )
    p = _leaf(
        group,
        "ofd",
        "OFD (GB/T 33190) per dossier (image + invisible OCR text)",
        "按案卷输出 OFD（GB/T 33190）",
        cmd_export_ofd,
    )
    p.add_argument("numbers", nargs="+", metavar="档号")
    p.add_argument("--watermark", metavar="TEXT", help=tr("visible watermark on every page", "每页加可见水印"))
    p.add_argument(
        "--out",
        required=True,
        metavar="DIR|FILE",
        help=tr("folder, or a .ofd file for one dossier", "目录；单个案卷时可为 .ofd 文件"),
    )
    p = _leaf(
        group,
        "catalog",
        "数据挂接: catalog (xlsx/csv/xml) and images in one folder per 档号",
        "数据挂接：目录（xlsx/csv/xml）及按档号分目录的图像",
        cmd_export_catalog,
    )
    p.add_argument("--year", type=int, help=tr("only this 年度", "仅此年度"))
    p.add_argument("--batch", metavar="BATCH", help=tr("only this transfer batch", "仅此移交批次"))
    p.add_argument("--format", required=True, choices=["xlsx", "csv", "xml"])
    p.add_argument("--out", required=True, metavar="FILE", help=tr("the catalog file", "目录文件"))
    p.add_argument(
        "--images",
        required=True,
        metavar="DIR",
        help=tr("new or empty folder for the images", "存放图像的新目录或空目录"),
    )
    p = _leaf(
        group,
        "eep",
        "DA/T 48 EEP package per dossier (件), signed with the station key (passphrase: prompt or "
        "SCANSTATION_KEY_PASSPHRASE)",
        "按件输出 DA/T 48 电子文件封装包，以本站密钥签名（口令：提示输入或 SCANSTATION_KEY_PASSPHRASE）",
        cmd_export_eep,
    )
    p.add_argument("numbers", nargs="+", metavar="档号")
    p.add_argument("--key", required=True, metavar="NAME", help=tr("the station's signing key", "本站签名密钥"))
    p.add_argument(
        "--out",
        required=True,
        metavar="DIR|FILE",
        help=tr("folder, or a .eep file for one dossier", "目录；单个案卷时可为 .eep 文件"),
    )
    p = _leaf(
        group,
        "verify",
        "check an exported PDF, OFD or EEP (text layer, 页数, digests, signature); exit 0 ok, 1 not",
        "检查导出的 PDF、OFD 或 EEP（文本层、页数、摘要、签名）；通过返回 0，否则返回 1",
        cmd_export_verify,
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument(
        "--pages",
        type=int,
        metavar="N",
        help=tr("expected 页数 (default: from the file or the catalog)", "应有页数（默认取自文件或目录数据库）"),
    )
    p.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="PEM",
        help=tr(
            "trusted signer key for EEP (in addition to the home's)", "受信任的 EEP 签名公钥（在工作目录之外另加）"
        ),
    )


def _copy_lines(result: dict) -> list[str]:
    lines = []
    for f in result["files"]:
        lines.append(
            tr(
                "{n}: {f} ({p} pages, {b} bytes, SM3 {s})",
                "{n}：{f}（{p} 页，{b} 字节，SM3 {s}）",
                n=f["number"],
                f=f["file"],
                p=f["pages"],
                b=f["bytes"],
                s=f["sm3"][:16],
            )
        )
        if f.get("pages_unpositioned"):
            lines.append(
                tr(
                    "  pages without OCR layout (text not placed over the words): {p}",
                    "  无 OCR 版面的页（文本未按字位放置）：{p}",
                    p=", ".join(map(str, f["pages_unpositioned"])),
                )
            )
        if f.get("pages_without_text"):
            lines.append(
                tr(
                    "  pages without any OCR text (image only): {p}",
                    "  无任何 OCR 文本的页（仅图像）：{p}",
                    p=", ".join(map(str, f["pages_without_text"])),
                )
            )
    return lines


def cmd_export_pdf(args, ctx) -> int:
    from scanstation.export.copies import export_copies

    result = export_copies(ctx.session(), args.numbers, Path(args.out), "pdf", pdfa=args.pdfa, watermark=args.watermark)
    ctx.emit(result, _copy_lines(result))
    return 0


def cmd_export_ofd(args, ctx) -> int:
    from scanstation.export.copies import export_copies

    result = export_copies(ctx.session(), args.numbers, Path(args.out), "ofd", watermark=args.watermark)
    ctx.emit(result, _copy_lines(result))
    return 0


def cmd_export_catalog(args, ctx) -> int:
    from scanstation.export.catalog_export import export_catalog

    result = export_catalog(
        ctx.session(), Path(args.out), args.format, Path(args.images), year=args.year, batch=args.batch
    )
    ctx.emit(
        result,
        tr(
            "{r} dossiers to {f}; {i} images in {d} (checksums: {c}).",
            "已导出 {r} 个案卷到 {f}；{i} 个图像在 {d}（校验文件：{c}）。",
            r=result["rows"],
            f=result["file"],
            i=result["images"],
            d=result["images_dir"],
            c=result["checksums"],
        ),
    )
    return 0


def cmd_export_eep(args, ctx) -> int:
    from scanstation.export.eep import export_eep
    from scanstation.transfer import keys

    session = ctx.session()
    session.require("export")
    signer = keys.signer(session.home, args.key, keys.passphrase())
    result = export_eep(session, args.numbers, Path(args.out), signer)
    ctx.emit(
        result,
        [
            tr(
                "{n}: {f} ({p} pages, signed by {k})",
                "{n}：{f}（{p} 页，签名密钥 {k}）",
                n=f["number"],
                f=f["file"],
                p=f["pages"],
                k=f["key"],
            )
            for f in result["files"]
        ],
    )
    return 0


def _home(ctx):
    return ctx.home() if (ctx.home_path() / "station.json").exists() else None


def _trust(ctx, extra):
    from scanstation.transfer import keys, signing

    trust = signing.TrustList()
    home = _home(ctx)
    if home is not None:
        trust = keys.trust_list(home)
        for own in keys.list_keys(home)["signing"]:
            if "error" not in own:
                trust.add(f"own:{own['name']}", keys.load_key(home, own["name"]).public_pem)
    for key in keys.trust_from_files(extra):
        trust.add(key.name, key.public_pem)
    return trust


def cmd_export_verify(args, ctx) -> int:
    from scanstation.export.check import check_file

    trust = _trust(ctx, args.trust)
    results, lines = [], []
    for name in args.files:
        home = _home(ctx)
        result = check_file(Path(name), declared=args.pages, trust=trust, catalog=home.catalog if home else None)
        results.append(result)
        verdict = tr("OK", "通过") if result["ok"] else tr("NOT OK", "不通过")
        lines.append(
            tr(
                "{f} ({k}, {p} pages): {v}",
                "{f}（{k}，{p} 页）：{v}",
                f=name,
                k=result["kind"].upper(),
                p=result["pages"],
                v=verdict,
            )
        )
        for en, zh in result["problems"]:
            lines.append("  - " + (en if is_english() else zh))
    for r in results:
        r["problems"] = [{"en": en, "zh": zh} for en, zh in r["problems"]]
    ctx.emit({"ok": all(r["ok"] for r in results), "files": results}, lines)
    return 0 if all(r["ok"] for r in results) else 1
