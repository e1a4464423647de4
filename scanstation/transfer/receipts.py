"""Receipts (回执): the archive room's signed answer to a package, and its import on the station.

A receipt names the package by the SM3 digest of its signed tag manifest, says accepted or
rejected with the reasons, the results of the four-property check and of the acceptance sample,
and is signed by the archive room's key (R30: the receiver countersigns). It is one JSON file
(``receipt`` + ``signature``; the signature covers the receipt's canonical JSON: UTF-8, keys
sorted, no spaces) and a PDF for people.

On the station, ``import_receipt`` checks the signature against the station's trust list and
matches the batch by the digest. Accepted: the batch is ``received`` and its dossiers
``transferred``. Rejected: the batch is ``rejected``; dossiers the receipt names as faulty go to
``qc_rejected`` with the archive room's reasons as a QC decision (the clerk corrects them, they are
completed and QC-approved again), every other dossier goes back to ``approved`` so it can go into
the next batch as it is.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from scanstation.errors import CheckFailed, InvalidInput, NotFound, Refused
from scanstation.home import now_iso
from scanstation.service import Session
from scanstation.storage.files import write_atomic
from scanstation.transfer import batches, keys, require_schema, signing
from scanstation.transfer.pdf_report import PdfDocument

FORMAT = "scanstation-receipt"
MAX_RECEIPT_BYTES = 16 * 1024 * 1024
DECISION_ZH = {"accepted": "接收", "rejected": "退回"}
PROPERTY_ZH = {"authenticity": "真实性", "integrity": "完整性", "usability": "可用性", "security": "安全性"}
RESULT_ZH = {"pass": "通过", "fail": "不通过", "skipped": "未检查", "not_available": "未检测"}


def canonical(receipt: dict) -> bytes:
    return json.dumps(receipt, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(receipt: dict, signer: signing.Signer) -> dict:
    data = canonical(receipt)
    return {
        "format": FORMAT,
        "version": 1,
        "receipt": receipt,
        "signature": {
            "algorithm": signer.algorithm,
            "value": base64.b64encode(signer.sign(data)).decode("ascii"),
            "public_key_pem": signer.public_pem,
            "fingerprint": signer.fingerprint,
            "covers": "canonical JSON of 'receipt' (UTF-8, sorted keys, separators ',' ':')",
            "sm2_id": "1234567812345678" if signer.algorithm == "sm2" else "",
        },
    }


def receipt_digest(envelope: dict) -> str:
    return hashlib.new("sm3", canonical(envelope["receipt"])).hexdigest()


def read(path) -> dict:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_RECEIPT_BYTES:
            raise InvalidInput("{file} is too large to be a receipt.", "{file} 太大，不是回执文件。", file=str(path))
        data = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise NotFound("The receipt file {file} does not exist.", "回执文件 {file} 不存在。", file=str(path)) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "{file} is not a receipt (not JSON: {error}).",
            "{file} 不是回执文件（不是 JSON：{error}）。",
            file=str(path),
            error=str(exc),
        ) from None
    if (
        not isinstance(data, dict)
        or data.get("format") != FORMAT
        or not isinstance(data.get("receipt"), dict)
        or not isinstance(data.get("signature"), dict)
    ):
        raise InvalidInput("{file} is not a ScanStation receipt.", "{file} 不是 ScanStation 回执。", file=str(path))
    return data


def check_signature(envelope: dict, trust: signing.TrustList) -> signing.TrustedKey:
    """The trusted key that signed the receipt; CheckFailed/Refused otherwise."""
    sig = envelope["signature"]
    pem = str(sig.get("public_key_pem", ""))
    try:
        value = base64.b64decode(str(sig.get("value", "")), validate=True)
    except ValueError:
        value = b""
    if not value or not signing.verify(pem, canonical(envelope["receipt"]), value):
        raise CheckFailed(
            "The receipt's signature is not valid: it was changed or not made by the archive room. "
            "Nothing was changed; ask the archive room for the receipt again.",
            "回执签名无效：回执被修改过或并非档案室签发。未做任何修改；请向档案室重新索取回执。",
        )
    trusted = trust.find(pem)
    if trusted is None:
        raise Refused(
            "The receipt is signed by a key this station does not trust ({fp}…). If it is the archive "
            "room's key, import it: scanstation keys trust NAME FILE.pem",
            "回执的签名密钥不在本站信任列表中（{fp}…）。如确为档案室密钥，请导入：scanstation keys trust 名称 公钥.pem",
            fp=signing.fingerprint(pem)[:16],
        )
    return trusted


def file_base(receipt: dict) -> str:
    return f"回执-{receipt['package']['batch_id'] or 'package'}-{receipt['decision']}-{receipt['issued_at'][:10]}"


def receipt_pdf(receipt: dict, signature: dict) -> bytes:
    pkg = receipt["package"]
    title = "电子档案移交接收回执"
    doc = PdfDocument(title, pkg.get("batch_id", ""))
    decision = receipt["decision"]
    doc.key_values(
        [
            ("回执编号 Receipt", receipt["receipt_id"]),
            ("结论 Decision", f"{DECISION_ZH.get(decision, decision)} {decision}"),
            ("批次 Batch", pkg.get("batch_id", "")),
            ("移交单位 / 站点 From", f"{pkg.get('source_organization', '')} / {pkg.get('source_station', '')}"),
            ("全宗号 / 年度 Fonds / year", f"{pkg.get('fonds', '')} / {pkg.get('year', '')}"),
            (
                f"包摘要 Package digest ({pkg.get('digest_algorithm', 'SM3')} of {pkg.get('digest_of', '')})",
                pkg.get("digest", ""),
            ),
            ("Payload-Oxum", pkg.get("payload_oxum", "")),
            (
                "数量 Counts",
                f"案卷 {pkg.get('dossiers', '')}，图像 {pkg.get('images', '')}，文件 {pkg.get('files', '')}，"
                f"{pkg.get('bytes', '')} 字节（{pkg.get('volume_gb', '')} GB）",
            ),
            (
                "移交方签名 Sender's key",
                f"{pkg.get('sender_key_name', '')} {pkg.get('sender_key_fingerprint', '')[:32]}",
            ),
            (
                "接收单位 Receiver",
                f"{receipt['receiver'].get('organization', '')} / {receipt['receiver'].get('station', '')}",
            ),
            ("签发时间 Issued", receipt["issued_at"]),
        ]
    )
    doc.heading("四性检测 Four-property check (DA/T 70)")
    checks = receipt.get("checks", {})
    rows = [["性质 Property", "结果 Result"]]
    for prop, result in checks.get("properties", {}).items():
        rows.append([f"{PROPERTY_ZH.get(prop, prop)} {prop}", f"{RESULT_ZH.get(result, result)} {result}"])
    doc.table(rows, widths=(0.4, 0.6))
    failures = checks.get("failures", [])
    if failures:
        doc.heading("未通过项 Failed checks")
        frows = [["检测项 Check", "对象 Object", "说明 Detail"]]
        for f in failures[:500]:
            frows.append(
                [f.get("title_zh", f.get("check", "")), f.get("object", ""), f"{f.get('zh', '')}\n{f.get('en', '')}"]
            )
        doc.table(frows, widths=(0.2, 0.35, 0.45))
    sample = receipt.get("sample") or {}
    if sample:
        doc.heading("抽样检验 Acceptance sample (R25–R26)")
        doc.key_values(
            [
                ("抽样比例 Percent", f"{sample.get('percent')} %（至少 1 个案卷）"),
                ("随机种子 Seed", sample.get("seed")),
                ("样本 Sample", "、".join(sample.get("dossiers", []))),
                (
                    "合格率 Pass rate",
                    f"{sample.get('pass_rate')} %（要求 ≥ {sample.get('pass_percent')} %；档号、缺页、完整性须 100 %）",
                ),
                ("结论 Result", "合格" if sample.get("passed") else "不合格"),
            ]
        )
    if receipt.get("reasons"):
        doc.heading("退回原因 Reasons")
        for reason in receipt["reasons"]:
            doc.paragraph(f"• {reason}")
    if receipt.get("dossiers_returned"):
        doc.paragraph("需更正的案卷 Dossiers to correct: " + "、".join(receipt["dossiers_returned"]))
    doc.heading("签署 Signatures")
    signs = receipt.get("signatures", {})
    rows = [["", "移交方 Transferring side", "接收方 Receiving side"]]
    for label, key in (
        ("单位 Unit", "organization"),
        ("经办人 Handled by", "handler"),
        ("审核人 Reviewed by", "reviewer"),
        ("日期 Date", "date"),
    ):
        rows.append([label, signs.get("sender", {}).get(key, "") or " ", signs.get("receiver", {}).get(key, "") or " "])
    doc.table(rows, widths=(0.2, 0.4, 0.4))
    doc.spacer()
    doc.paragraph(
        f"本回执以 {signature.get('algorithm', '').upper()} 数字签名（公钥指纹 SM3 {signature.get('fingerprint', '')}），"
        "签名覆盖回执 JSON 的规范形式。This receipt is digitally signed; the signature covers the canonical "
        "JSON of the receipt.",
        small=True,
    )
    return doc.render()


def write(envelope: dict, out_dir) -> tuple[Path, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    base = file_base(envelope["receipt"])
    json_path, pdf_path = out_dir / f"{base}.json", out_dir / f"{base}.pdf"
    write_atomic(json_path, (json.dumps(envelope, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    write_atomic(pdf_path, receipt_pdf(envelope["receipt"], envelope["signature"]))
    return json_path, pdf_path


# -- the station side --------------------------------------------------------------------------
def _find_batch(session: Session, receipt: dict) -> dict:
    """The batch whose sealed package has the digest the receipt names; nothing else.

    A receipt names the package it decided on by the SM3 of its signed tag manifest. A receipt about
    any other package — a copy damaged on the way, a look-alike with the same batch id — says nothing
    about the batch this station sent, so it never changes it (matching by batch id alone would let a
    rejected look-alike return the genuine batch).
    """
    pkg = receipt.get("package", {})
    digest = str(pkg.get("digest", ""))
    row = (
        session.catalog.one(
            "SELECT batch_id FROM batches WHERE tagmanifest_sm3 = ? AND tagmanifest_sm3 != ''", (digest,)
        )
        if digest and pkg.get("digest_of") == "tagmanifest-sm3.txt"
        else None
    )
    if row is None:
        same_id = session.catalog.one(
            "SELECT batch_id, tagmanifest_sm3 FROM batches WHERE batch_id = ?", (str(pkg.get("batch_id", "")),)
        )
        if same_id is not None:
            raise NotFound(
                "The receipt is about another package (SM3 {d}… of {of}) than the one this station sealed "
                "as batch {b} (tag manifest SM3 {mine}…), for example a copy damaged on the way; nothing "
                "was changed. Ask the archive room to check the package as sent.",
                "回执针对的是另一个移交包（{of} 的 SM3 {d}…），而非本站封装的批次 {b}（标签清单 SM3 {mine}…），"
                "例如传输中损坏的副本；未做任何修改。请档案室检测本站发送的原包。",
                d=digest[:16],
                of=pkg.get("digest_of", "?"),
                b=same_id["batch_id"],
                mine=(same_id["tagmanifest_sm3"] or "")[:16],
            )
        raise NotFound(
            "No batch of this station matches the receipt (package digest {d}…, batch {b}). It belongs to "
            "another station or another package; nothing was changed.",
            "本站没有与回执对应的批次（包摘要 {d}…，批次 {b}）。它属于其他站点或其他移交包；未做任何修改。",
            d=digest[:16],
            b=pkg.get("batch_id", "?"),
        )
    return batches.get(session.catalog, row["batch_id"])


def import_receipt(session: Session, path) -> dict:
    """Record the archive room's receipt for a sent batch (see the module text for what changes)."""
    session.require("batch.manage")
    require_schema(session.catalog)
    envelope = read(path)
    trusted = check_signature(envelope, keys.trust_list(session.home))
    receipt = envelope["receipt"]
    decision = receipt.get("decision")
    if decision not in ("accepted", "rejected"):
        raise InvalidInput("The receipt's decision '{d}' is unknown.", "回执中的结论“{d}”无法识别。", d=decision)
    digest = receipt_digest(envelope)
    if session.catalog.one("SELECT id FROM transfer_receipts WHERE receipt_sm3 = ?", (digest,)):
        raise Refused("This receipt was already imported.", "此回执已导入过。")
    batch = _find_batch(session, receipt)
    if batch["state"] not in ("sent", "sealed"):
        raise Refused(
            "Batch {b} is {s}; a receipt is imported only for a batch that was sent.",
            "批次 {b} 当前为“{s_zh}”；只有已发送的批次才能导入回执。",
            b=batch["batch_id"],
            s=batch["state"],
            s_zh=batches.STATE_ZH.get(batch["state"], batch["state"]),
        )
    kept_dir = session.home.dir("outbox") / "receipts"
    kept = kept_dir / Path(path).name
    if kept.exists():
        kept = kept_dir / f"{Path(path).stem}-{digest[:8]}.json"
    write_atomic(kept, (json.dumps(envelope, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    returned = set(receipt.get("dossiers_returned") or [])
    reasons = receipt.get("reasons") or []
    stamp = now_iso()
    changed: dict[str, list[str]] = {"transferred": [], "qc_rejected": [], "approved": []}
    try:
        with session.change("batch.manage", "receipt.import", "batch", batch["batch_id"]) as ch:
            ch.conn.execute(
                "INSERT INTO transfer_receipts(batch_id, receipt_id, receipt_sm3, tagmanifest_sm3, decision,"
                " signer_fingerprint, signer_name, issued_at, imported_by, imported_at, path, content)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    batch["id"],
                    str(receipt.get("receipt_id", "")),
                    digest,
                    str(receipt["package"].get("digest", "")),
                    decision,
                    trusted.fingerprint,
                    trusted.name,
                    str(receipt.get("issued_at", "")),
                    session.user.name,
                    stamp,
                    str(kept.relative_to(session.home.path)),
                    json.dumps(envelope, ensure_ascii=False),
                ),
            )
            for d in batches.dossiers_of(session.catalog, batch["id"]):
                if decision == "accepted":
                    new = "transferred"
                    ch.conn.execute(
                        "UPDATE dossiers SET status = 'transferred', updated_at = ? WHERE id = ?", (stamp, d["id"])
                    )
                    ch.conn.execute(
                        "UPDATE batch_dossiers SET outcome = 'transferred' WHERE batch_id = ? AND dossier_id = ?",
                        (batch["id"], d["id"]),
                    )
                else:
                    new = "qc_rejected" if d["number"] in returned else "approved"
                    ch.conn.execute(
                        "UPDATE dossiers SET status = ?, batch_id = NULL, updated_at = ? WHERE id = ?",
                        (new, stamp, d["id"]),
                    )
                    ch.conn.execute(
                        "UPDATE batch_dossiers SET outcome = 'returned' WHERE batch_id = ? AND dossier_id = ?",
                        (batch["id"], d["id"]),
                    )
                    if new == "qc_rejected":
                        why = [
                            f.get("zh") or f.get("en", "")
                            for f in receipt.get("checks", {}).get("failures", [])
                            if f.get("dossier") == d["number"]
                        ]
                        why += [s for s in receipt.get("sample", {}).get("findings", {}).get(d["number"], [])]
                        text = "档案室退回 / returned by the archive room: " + ("; ".join(why or reasons) or "—")
                        ch.conn.execute(
                            "INSERT INTO qc_decisions(dossier_id, decision, reason, user, ts)"
                            " VALUES (?, 'reject_dossier', ?, ?, ?)",
                            (d["id"], text[:2000], session.user.name, stamp),
                        )
                changed[new].append(d["number"])
                ch.also(
                    f"dossier.{new}",
                    "dossier",
                    d["number"],
                    {"status": d["status"]},
                    {"status": new, "receipt": receipt.get("receipt_id")},
                )
            state = "received" if decision == "accepted" else "rejected"
            details = dict(
                batch["details"],
                receipt={
                    "id": receipt.get("receipt_id"),
                    "decision": decision,
                    "issued_at": receipt.get("issued_at"),
                    "by": trusted.name,
                    "reasons": reasons,
                    "imported_at": stamp,
                },
            )
            ch.conn.execute(
                "UPDATE batches SET state = ?, details = ?, updated_at = ? WHERE id = ?",
                (state, json.dumps(details, ensure_ascii=False), stamp, batch["id"]),
            )
            ch.before = {"state": batch["state"]}
            ch.after = {
                "state": state,
                "receipt": receipt.get("receipt_id"),
                "decision": decision,
                "signer": trusted.fingerprint,
                "reasons": reasons,
            }
    except BaseException:
        kept.unlink(missing_ok=True)
        raise
    return {
        "batch_id": batch["batch_id"],
        "state": state,
        "decision": decision,
        "receipt_id": receipt.get("receipt_id"),
        "signer": trusted.name,
        "reasons": reasons,
        "dossiers": changed,
        "kept": str(kept),
    }


__all__ = [
    "FORMAT",
    "canonical",
    "check_signature",
    "import_receipt",
    "read",
    "receipt_digest",
    "receipt_pdf",
    "sign",
    "write",
]
