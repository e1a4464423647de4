"""Receiving a package in the archive room (R25–R26, R33–R34): check, sample, accept or reject.

1. A package already decided on (same tag-manifest digest) is refused: a replay never gets in twice.
2. The four-property check runs (scanstation.transfer.verify) against this archive's trust list,
   档号 rules and catalog (duplicates).
3. An acceptance sample is drawn: at least ``acceptance.sample_percent`` of the dossiers, at least
   one, with a random seed that is recorded (the same seed draws the same sample). Each sampled
   dossier is reviewed for 档号, missing pages, completeness and image quality, plus what the
   archivist found (``sample_findings``). It passes at ``acceptance.pass_percent`` with 档号,
   missing pages and completeness at 100 %.
4. Accept (only when every automatic check passed and the sample passed, R34): the images are
   copied into this archive's store (re-hashed while copied, so a file changed since the check is
   caught), then dossiers (status ``archived``), pages, the package record and the audit entries
   are written in one transaction. Reject: the decision is recorded, nothing is ingested. Either
   way a receipt signed with the archive room's key is written.

Nothing is written to the archive when a package is refused; a failed ingest removes what it copied.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import random
import secrets
import shutil
import stat as stat_mod
from pathlib import Path

from scanstation import SOFTWARE_NAME, __version__, audit_anchor, settings
from scanstation.errors import CheckFailed, InvalidInput, Refused
from scanstation.home import now_iso
from scanstation.i18n import tr
from scanstation.service import Session
from scanstation.storage.encryption import image_store
from scanstation.storage.faults import crash_point
from scanstation.storage.files import DigestMismatch, copy_hashed, digests, file_digests, fsync_dir, storage_error
from scanstation.transfer import keys, receipts, register, require_schema, verify
from scanstation.transfer import package_layout as layout

SAMPLE_ITEMS = {
    "number": ("档号", ("dossier_numbers",)),
    "missing_pages": ("缺页", ("sequence", "declared_pages")),
    "completeness": ("完整性", ("mandatory", "metadata", "files", "checksums", "duplicates")),
    "image_quality": ("图像质量", ("decode", "resolution", "formats", "limits", "encryption")),
}
MUST_BE_100 = ("number", "missing_pages", "completeness")


def draw_sample(numbers: list[str], percent: float, seed: int) -> list[str]:
    """R25–R26: ceil(percent % of the dossiers), at least one, drawn with ``seed``; sorted."""
    pool = sorted(numbers)
    if not pool:
        return []
    size = min(len(pool), max(1, math.ceil(len(pool) * float(percent) / 100.0)))
    return sorted(random.Random(int(seed)).sample(pool, size))


def review_sample(
    report: verify.VerifyReport,
    sample: list[str],
    findings: dict[str, list[str]],
    percent: float,
    pass_percent: float,
    seed: int,
) -> dict:
    failed = report.failed_dossiers()
    rows, passed = [], 0
    item_fail = {key: 0 for key in SAMPLE_ITEMS}
    for number in sample:
        checks = {line.check for line in failed.get(number, [])}
        items = {}
        for key, (_zh, codes) in SAMPLE_ITEMS.items():
            ok = not (checks & set(codes))
            items[key] = ok
            item_fail[key] += not ok
        human = findings.get(number, [])
        items["archivist"] = not human
        ok = all(items.values())
        passed += ok
        rows.append({"number": number, "passed": ok, "items": items, "findings": human})
    size = len(sample)
    rate = round(100.0 * passed / size, 2) if size else 0.0
    item_rates = {key: round(100.0 * (size - n) / size, 2) if size else 0.0 for key, n in item_fail.items()}
    ok = bool(size) and rate >= float(pass_percent) and all(item_rates[k] == 100.0 for k in MUST_BE_100)
    return {
        "seed": seed,
        "percent": percent,
        "pass_percent": pass_percent,
        "size": size,
        "population": len(report.dossiers),
        "dossiers": sample,
        "results": rows,
        "pass_rate": rate,
        "item_rates": item_rates,
        "passed": ok,
        "findings": {k: v for k, v in findings.items() if v},
    }


def desk_name(home) -> str:
    """Which desk is working: the station id, the machine and the process."""
    import socket

    return f"{home.station}@{socket.gethostname()}:{os.getpid()}"


def _package_digest(report: verify.VerifyReport, path: Path) -> tuple[str, str]:
    """How the package is named: SM3 of its signed tag manifest (or, lacking it, of another file)."""
    if report.tagmanifest_sm3:
        return report.tagmanifest_sm3, layout.SIGNED_TAG_MANIFEST
    root = report.root
    for name in ("manifest-sm3.txt", "bag-info.txt"):
        if root is not None and (root / name).is_file() and not (root / name).is_symlink():
            return hashlib.new("sm3", (root / name).read_bytes()).hexdigest(), name
    if path.is_file():
        return copy_hashed(path, sha256=False)[2], path.name
    return hashlib.new("sm3", str(path).encode("utf-8")).hexdigest(), "path"


def _copy_verified(src: Path, dst: Path, sha256: str, sm3: str, store=None) -> int:
    """Copy one image into the store, hashing it on the way; the digests must be the checked ones.
    An archive that encrypts its images at rest (R40) gets the file encrypted."""
    if store is not None and store.encrypts:
        data = src.read_bytes()
        if digests(data) != (sha256, sm3):
            raise _changed(src.name)
        store.write_path(dst, data)
        return len(data)
    try:
        size, _, _ = copy_hashed(
            src, dst, part=dst.with_name(dst.name + ".part"), fsync=True, expected_sha256=sha256, expected_sm3=sm3
        )
    except DigestMismatch:
        raise _changed(src.name) from None
    return size


def _changed(rel: str) -> CheckFailed:
    return CheckFailed(
        "{file} changed after it was checked; nothing was received. Check the package again.",
        "{file} 在检测后发生了变化；未接收任何内容。请重新检测移交包。",
        file=rel,
    )


def _copy_hashed(src: Path, dst: Path, sm3: str, rel: str) -> None:
    """Copy one file, hashing it on the way; the copy is kept only when its SM3 is the checked one."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(src, flags)
    except OSError as exc:
        raise _changed(rel) from exc
    with os.fdopen(fd, "rb", buffering=0) as fi:
        if not stat_mod.S_ISREG(os.fstat(fi.fileno()).st_mode):
            raise _changed(rel)
        try:
            copy_hashed(fi, dst, part=dst.with_name(dst.name + ".part"), fsync=True, sha256=False, expected_sm3=sm3)
        except DigestMismatch:
            raise _changed(rel) from None


def _copy_package_record(report: verify.VerifyReport, kept: Path, images: set[str]) -> None:
    """Copy every non-image file of the checked package into ``kept``, accepting only what was verified.

    Each file is hashed while it is copied and must have the SM3 the check recorded (payload and tag
    manifests, the tag manifests and the signature files as they were read). A file that appeared
    after the check, a link or a device file, or a checked file that is gone stops the acceptance.
    """
    root = report.root
    if root is None:  # the package was never read: nothing to accept
        raise _changed(".")
    seen: set[str] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        for entry in os.scandir(folder):
            rel = Path(entry.path).relative_to(root).as_posix()
            if entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
                continue
            if not entry.is_file(follow_symlinks=False) or rel not in report.verified:
                raise CheckFailed(
                    "{file} appeared in the package after it was checked; nothing was received. "
                    "Check the package again.",
                    "{file} 在检测后出现在移交包中；未接收任何内容。请重新检测移交包。",
                    file=rel,
                )
            seen.add(rel)
            if rel in images:
                continue  # copied into the image store, re-hashed there
            target = kept / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            _copy_hashed(Path(entry.path), target, report.verified[rel], rel)
    gone = sorted(set(report.verified) - seen)
    if gone:
        raise _changed(gone[0])


def _store_value(home, field: str, value: str) -> str:
    from scanstation.storage.encryption import store_value

    return store_value(home, field, value)


def _receipt(
    session: Session,
    report: verify.VerifyReport,
    digest: str,
    digest_of: str,
    decision: str,
    reasons: list[str],
    sample: dict,
    returned: list[str],
    package_register: dict | None,
) -> dict:
    home = session.home
    fonds_row = session.catalog.one("SELECT name FROM fonds WHERE code = ?", (home.fonds,))
    organization = (fonds_row or {}).get("name") or f"档案室 {home.fonds}"
    info = report.info
    counts = report.counts or {}
    stamp = now_iso()
    sender_sign = {}
    if report.root is not None and (report.root / layout.REGISTER_XML).is_file():
        sender_sign = {
            "organization": info.get("Source-Organization", ""),
            "handler": info.get("Contact-Name", ""),
            "reviewer": "",
            "date": info.get("Bagging-Date", ""),
        }
    return {
        "receipt_id": f"R-{home.station}-{stamp[:19].replace('-', '').replace(':', '').replace('T', '')}-{digest[:8]}",
        "decision": decision,
        "issued_at": stamp,
        "package": {
            "batch_id": info.get("External-Identifier", ""),
            "digest": digest,
            "digest_algorithm": "SM3",
            "digest_of": digest_of,
            "payload_oxum": info.get("Payload-Oxum", ""),
            "source_organization": info.get("Source-Organization", ""),
            "source_station": info.get("Station-Id", info.get("Internal-Sender-Identifier", "")),
            "fonds": info.get("Fonds-Code", ""),
            "year": info.get("Archive-Year", ""),
            "dossiers": counts.get("dossiers", 0),
            "images": counts.get("images", 0),
            "files": counts.get("files", 0),
            "bytes": counts.get("bytes", 0),
            "volume_gb": register.gb(counts.get("bytes", 0) or 0),
            "register_digest": (package_register or {}).get("digest", ""),
            "sender_key_fingerprint": report.signer.get("fingerprint", ""),
            "sender_key_name": report.signer.get("trusted_name", ""),
        },
        "checks": {
            "passed": report.passed,
            "properties": {p: report.property_result(p) for p in verify.PROPERTIES},
            "failures": [line.to_dict() for line in report.failures][:2000],
            "malware": report.malware,
            "checked_at": report.checked_at,
        },
        "sample": sample,
        "reasons": reasons,
        "dossiers_returned": returned,
        "dossiers_accepted": sorted(report.dossiers) if decision == "accepted" else [],
        "receiver": {
            "organization": organization,
            "fonds": home.fonds,
            "station": home.station,
            "user": session.user.name,
            "software": f"{SOFTWARE_NAME} {__version__}",
        },
        "signatures": {
            "sender": sender_sign,
            "receiver": {
                "organization": organization,
                "handler": session.user.name,
                "reviewer": "",
                "date": stamp[:10],
            },
        },
    }


def _add_audit_checkpoints(receipt: dict, session: Session, report: verify.VerifyReport, signer) -> None:
    """Anchors held by the other side: the archive room's signed checkpoint of its own audit chain, and the
    sender's checkpoint from the package (only when the check vouched for that file), signed back with the
    receipt."""
    receipt["receiver"]["audit_checkpoint"] = audit_anchor.make(
        session.home, signer, f"receipt {receipt['receipt_id']}"
    )
    rel = audit_anchor.PACKAGE_FILE
    if report.root is not None and rel in report.verified:
        try:
            data = (report.root / rel).read_bytes()
            if hashlib.new("sm3", data).hexdigest() == report.verified[rel]:
                found = audit_anchor.extract(json.loads(data.decode("utf-8")))
                if found:
                    receipt["package"]["sender_audit_checkpoint"] = found[0]
        except (OSError, ValueError, UnicodeDecodeError):
            pass


def _package_register(report: verify.VerifyReport) -> dict | None:
    if report.root is None or layout.REGISTER_XML not in report.payload:
        return None
    try:
        return register.read_register_xml((report.root / layout.REGISTER_XML).read_bytes())
    except Exception:
        return None


def _choose_key(home, key_name: str | None) -> str:
    if key_name:
        return key_name
    own = [k["name"] for k in keys.list_keys(home)["signing"] if "error" not in k]
    if len(own) == 1:
        return own[0]
    raise InvalidInput(
        "Name the archive room's signing key for the receipt: --key NAME (keys: {k}).",
        "请用 --key 名称 指定签发回执的档案室签名密钥（现有：{k}）。",
        k=", ".join(own) or "—",
    )


def receive(
    session: Session,
    path,
    *,
    decision: str | None = None,
    reasons: list[str] | None = None,
    key_name: str | None = None,
    passphrase: str | None = None,
    seed: int | None = None,
    sample_findings: dict[str, list[str]] | None = None,
    out_dir=None,
    report_dir=None,
    workers: int | None = None,
) -> dict:
    """Check a package and, with ``decision`` "accept" or "reject", decide on it and sign a receipt."""
    session.require("receive")
    require_schema(session.catalog)
    home = session.home
    if home.info.role != "archive":
        raise Refused(
            "This home is a scanning station; packages are received in an archive room's home "
            "(scanstation init --kind archive).",
            "此工作目录是扫描站；移交包须在档案室的工作目录中接收（scanstation init --kind archive）。",
        )
    if decision not in (None, "accept", "reject"):
        raise InvalidInput("Decide with accept or reject.", "请选择接收（accept）或退回（reject）。")
    path = Path(path)
    reasons = [r.strip() for r in (reasons or []) if r and r.strip()]
    sample_findings = {k: [v for v in vs if v] for k, vs in (sample_findings or {}).items()}
    signer = None
    if decision:
        signer = keys.signer(home, _choose_key(home, key_name), passphrase or "")  # fail fast on the passphrase
    from scanstation import dossier_number

    schema = dossier_number.schema_for_home(home)
    trust = keys.trust_list(home)
    work = home.dir("inbox")
    stager = None
    if decision == "accept" and home.page_store is not None and hasattr(home.page_store, "stager"):
        # the check's one read of each image also writes its copy into the page store (see page_store)
        stager = home.page_store.stager(lambda p: p.suffix[1:].lower() in layout.FORMAT_BY_EXT)
    with (
        contextlib.ExitStack() as held,
        verify.checked(
            path, trust=trust, schema=schema, catalog=home.catalog, workers=workers, work_dir=work, tee=stager
        ) as report,
    ):
        if stager is not None:
            held.callback(stager.close)
        digest, digest_of = _package_digest(report, path)
        if decision:
            # several desks may share the archive: one works on a package, a second is told who does
            held.enter_context(
                session.catalog.claim(digest, desk=desk_name(home), station=home.station, user=session.user.name)
            )
        earlier = session.catalog.one(
            "SELECT decision, received_at, received_by, batch_id FROM received_packages WHERE tagmanifest_sm3 = ?",
            (digest,),
        )
        if earlier:
            session.log(
                "package.replay_refused",
                "package",
                report.info.get("External-Identifier", path.name),
                {"digest": digest, "earlier": earlier},
            )
            raise Refused(
                "This package (SM3 {d}…) was already received on {when} by {who} ({decision}); a package is "
                "received only once. Nothing was changed.",
                "该移交包（SM3 {d}…）已于 {when} 由 {who} 处理（{decision_zh}）；同一移交包只接收一次。未做任何修改。",
                d=digest[:16],
                when=earlier["received_at"],
                who=earlier["received_by"],
                decision=earlier["decision"],
                decision_zh=receipts.DECISION_ZH.get(earlier["decision"], ""),
            )
        numbers = [n for n in report.dossiers if n and not n.startswith("#")]
        if seed is None:
            seed = secrets.randbits(48)
        percent = float(settings.get(home, "acceptance.sample_percent"))
        pass_percent = float(settings.get(home, "acceptance.pass_percent"))
        unknown = sorted(set(sample_findings) - set(numbers))
        if unknown:
            raise InvalidInput(
                "Findings name dossiers that are not in the package: {n}.",
                "检验意见中的案卷不在移交包中：{n}。",
                n=", ".join(unknown),
            )
        sample_numbers = draw_sample(numbers, percent, seed)
        outside = sorted(set(sample_findings) - set(sample_numbers))
        sample = review_sample(report, sample_numbers, sample_findings, percent, pass_percent, seed)
        if outside:  # the archivist may record findings outside the sample too: they count as failures
            sample["findings"].update({n: sample_findings[n] for n in outside})
        report_paths = verify.write_report(report, Path(report_dir) if report_dir else home.dir("reports"))
        result = {
            "package": str(path),
            "batch_id": report.info.get("External-Identifier", ""),
            "digest": digest,
            "digest_of": digest_of,
            "checks_passed": report.passed,
            "report": report.to_dict(),
            "report_files": [str(p) for p in report_paths],
            "sample": sample,
            "decision": None,
        }
        if decision is None:
            return result
        if decision == "accept":
            problems = []
            if not report.passed:
                problems.append(
                    tr("{n} automatic check(s) failed (R34)", "{n} 项自动检测未通过（R34）", n=len(report.failures))
                )
            if not sample["passed"]:
                problems.append(
                    tr(
                        "the acceptance sample failed (pass rate {r} %)",
                        "抽样检验不合格（合格率 {r} %）",
                        r=sample["pass_rate"],
                    )
                )
            if sample["findings"]:
                problems.append(
                    tr("findings recorded for {n}", "以下案卷有检验意见：{n}", n=", ".join(sample["findings"]))
                )
            if problems:
                raise Refused(
                    "The package cannot be accepted: {why}. Nothing was written; reject it with the reasons "
                    "(scanstation receive PATH --reject --reason ...).",
                    "该移交包不能接收：{why}。未写入任何内容；请填写原因后退回（scanstation receive 路径 --reject --reason ...）。",
                    why="; ".join(problems),
                )
            from scanstation.custody.duties import assert_may_receive

            for content in report.dossiers.values():
                if content.meta:
                    assert_may_receive(session, dict(content.meta.fields, number=content.number))
            return _accept(session, report, path, digest, digest_of, sample, signer, out_dir, result, stager)
        returned = sorted(set(report.failed_dossiers()) | set(sample["findings"]))
        auto = [f"{line.title}: {line.object} — {line.message}" for line in report.failures][:50]
        all_reasons = reasons + auto
        if not all_reasons:
            raise InvalidInput(
                "Every automatic check passed: give the reason for returning the package (--reason).",
                "所有自动检测均已通过：请填写退回原因（--reason）。",
            )
        return _reject(
            session, report, path, digest, digest_of, sample, signer, out_dir, result, reasons + auto, returned
        )


def _record(
    ch, session, report, path, digest, sample, decision, reasons, receipt_env, receipt_path, kept_path, stamp
) -> int:
    counts = report.counts or {}
    info = report.info
    cur = ch.conn.execute(
        "INSERT INTO received_packages(tagmanifest_sm3, batch_id, fonds_code, year, source_station, signer_fingerprint,"
        " signer_name, decision, reasons, sample, checks, dossiers, files, bytes, package_path, kept_path, receipt_id,"
        " receipt_path, received_by, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            digest,
            info.get("External-Identifier", ""),
            info.get("Fonds-Code", ""),
            int(info["Archive-Year"]) if str(info.get("Archive-Year", "")).isdigit() else None,
            info.get("Station-Id", ""),
            report.signer.get("fingerprint", ""),
            report.signer.get("trusted_name", ""),
            decision,
            json.dumps(reasons, ensure_ascii=False),
            json.dumps(sample, ensure_ascii=False),
            json.dumps(
                {
                    "passed": report.passed,
                    "properties": {p: report.property_result(p) for p in verify.PROPERTIES},
                    "failures": len(report.failures),
                },
                ensure_ascii=False,
            ),
            counts.get("dossiers", 0),
            counts.get("files", 0),
            counts.get("bytes", 0),
            str(path),
            kept_path,
            receipt_env["receipt"]["receipt_id"],
            receipt_path,
            session.user.name,
            stamp,
        ),
    )
    return cur.lastrowid


def _write_receipt(session, envelope, out_dir) -> tuple[list[Path], str]:
    """Write the signed receipt durably: each file fsynced and renamed into place, and the folders that
    hold it fsynced too (a receipts folder made just now must survive a power cut as well)."""
    written = list(receipts.write(envelope, session.home.dir("outbox") / "receipts"))
    if out_dir:
        written += list(receipts.write(envelope, Path(out_dir)))
    for folder in {p.parent.parent for p in written}:
        fsync_dir(folder)
    return written, str(written[0].relative_to(session.home.path))


def _keep_rejection(store, digest: str, envelope: dict) -> tuple[str, dict]:
    """The signed rejection receipt as a store object, named by a record manifest like an accepted package's."""
    envelope_bytes = json.dumps(envelope, ensure_ascii=False, sort_keys=True).encode("utf-8")
    r_sha, r_sm3 = store.put_bytes(envelope_bytes)
    manifest = json.dumps(
        {"package": digest, "files": {}, "images": [], "receipt": r_sm3, "decision": "rejected"},
        ensure_ascii=False,
        sort_keys=True,
    ).encode("utf-8")
    m_sha, m_sm3 = store.put_bytes(manifest)
    return f"store:{m_sm3}", {r_sm3: (r_sha, len(envelope_bytes)), m_sm3: (m_sha, len(manifest))}


def _reject(session, report, path, digest, digest_of, sample, signer, out_dir, result, reasons, returned) -> dict:
    receipt = _receipt(
        session, report, digest, digest_of, "rejected", reasons, sample, returned, _package_register(report)
    )
    _add_audit_checkpoints(receipt, session, report, signer)
    envelope = receipts.sign(receipt, signer)
    # The signed receipt is on disk (fsynced, its folders too) before the rejection commits: a desk killed
    # after the commit never leaves a rejection without its receipt. On a page store the receipt is also
    # kept as a store object named by the package's record, as an accepted package's is.
    written, receipt_rel = _write_receipt(session, envelope, out_dir)
    stamp = now_iso()
    kept, objects = "", {}  # type: tuple[str, dict]
    try:
        if session.home.page_store is not None:
            kept, objects = _keep_rejection(session.home.page_store, digest, envelope)
        crash_point("receive.reject.written")
        with session.change("receive", "package.reject", "package", receipt["package"]["batch_id"] or path.name) as ch:
            _record(ch, session, report, path, digest, sample, "rejected", reasons, envelope, receipt_rel, kept, stamp)
            for object_sm3, (object_sha, size) in sorted(objects.items()):
                ch.conn.execute(
                    "INSERT OR IGNORE INTO store_objects(sm3, sha256, bytes, stored_at) VALUES (?, ?, ?, ?)",
                    (object_sm3, object_sha, size, stamp),
                )
            ch.after = {
                "digest": digest,
                "receipt": receipt["receipt_id"],
                "reasons": reasons[:20],
                "returned": returned,
            }
    except BaseException:
        for p in written:
            p.unlink(missing_ok=True)
        raise
    crash_point("receive.rejected")
    result.update(
        decision="rejected", receipt=envelope, receipt_files=[str(p) for p in written], dossiers_returned=returned
    )
    return result


def _accept(session, report, path, digest, digest_of, sample, signer, out_dir, result, stager=None) -> dict:
    home = session.home
    if home.page_store is not None:
        return _accept_into_page_store(
            session, report, path, digest, digest_of, sample, signer, out_dir, result, stager
        )
    store = image_store(home)
    contents = [c for c in report.dossiers.values() if c.meta is not None]
    for c in contents:
        if store.dossier_dir(c.number).exists():
            raise Refused(
                "The image folder of {n} already exists in this archive; nothing was written. Run "
                "scanstation reconcile, then receive again.",
                "本档案室中已存在 {n} 的图像目录；未写入任何内容。请先执行 scanstation reconcile 后再接收。",
                n=c.number,
            )
    receipt = _receipt(session, report, digest, digest_of, "accepted", [], sample, [], _package_register(report))
    _add_audit_checkpoints(receipt, session, report, signer)
    envelope = receipts.sign(receipt, signer)
    created: list[Path] = []
    written: list[Path] = []
    batch_id = receipt["package"]["batch_id"] or path.name
    kept = home.dir("archive") / "received" / f"{batch_id}-{digest[:12]}"
    if kept.exists():  # left by an accept killed before its commit (the digest is not in the catalog): set aside
        aside = home.dir("quarantine") / f"interrupted-receive-{now_iso().replace(':', '')}"
        aside.mkdir(parents=True, exist_ok=True)
        shutil.move(str(kept), str(aside / kept.name))
    try:
        # 1. images into the store, re-hashed while copied
        sha, sm3 = report.manifests.get("sha256", {}), report.manifests.get("sm3", {})
        for c in contents:
            folder = store.dossier_dir(c.number)
            folder.mkdir(parents=True)
            created.append(folder)
            for rel in c.images:
                _copy_verified(report.root / rel, folder / rel.rsplit("/", 1)[-1], sha[rel], sm3[rel], store)
            fsync_dir(folder)
        # 2. the package's own record: tag files, signature and every non-image file, each hashed while
        #    copied and compared with what the check vouched for
        kept.mkdir(parents=True)
        created.append(kept)
        _copy_package_record(report, kept, {rel for c in contents for rel in c.images})
        written, receipt_rel = _write_receipt(session, envelope, out_dir)
        stamp = now_iso()
        crash_point("receive.copied")
        with session.change("receive", "package.accept", "package", batch_id) as ch:
            package_id = _record(
                ch,
                session,
                report,
                path,
                digest,
                sample,
                "accepted",
                [],
                envelope,
                receipt_rel,
                str(kept.relative_to(home.path)),
                stamp,
            )
            for c in contents:
                _ingest_dossier(ch, session, c, package_id, stamp)
            ch.after = {
                "digest": digest,
                "receipt": receipt["receipt_id"],
                "dossiers": len(contents),
                "images": sum(len(c.images) for c in contents),
                "seed": sample["seed"],
            }
    except BaseException as exc:
        for folder in created:
            shutil.rmtree(folder, ignore_errors=True)
        for p in written:
            p.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise storage_error(Path(getattr(exc, "filename", "") or home.path), exc) from exc
        raise
    result.update(
        decision="accepted",
        receipt=envelope,
        receipt_files=[str(p) for p in written],
        dossiers_accepted=sorted(c.number for c in contents),
        kept=str(kept),
    )
    return result


def _accept_into_page_store(
    session, report, path, digest, digest_of, sample, signer, out_dir, result, stager=None
) -> dict:
    """Accept into an archive whose page files live in a content-addressed store (several desks).

    1. Every image and every record file of the package goes into the store under its SM3 name. An image
       the check copied in its own read (``stager``) is moved into place; any other file is stored by
       ``put_file``, which checks the declared digests and reads the object back.
    2. Only then, in one transaction: the package record, dossiers, pages, the store's object list and
       the audit entries. The signed receipt is itself a store object named in that record.
    3. After the commit the receipt files are written to the outbox (again from the store if needed).
    A desk killed before the commit leaves only store objects that no row names; the next attempt
    finds them already stored (their names are their digests) and carries on.
    """
    home = session.home
    store = home.page_store
    contents = [c for c in report.dossiers.values() if c.meta is not None]
    numbers = [c.number for c in contents]
    for i in range(0, len(numbers), 500):
        chunk = numbers[i : i + 500]
        found = session.catalog.query(
            f"SELECT number FROM dossiers WHERE number IN ({','.join('?' * len(chunk))})", chunk
        )
        if found:
            raise Refused(
                "{n} is already in this archive; nothing was written.",
                "{n} 已在本档案库中；未写入任何内容。",
                n=", ".join(sorted(r["number"] for r in found)),
            )
    receipt = _receipt(session, report, digest, digest_of, "accepted", [], sample, [], _package_register(report))
    _add_audit_checkpoints(receipt, session, report, signer)  # as on the SQLite archive (R36)
    envelope = receipts.sign(receipt, signer)
    batch_id = receipt["package"]["batch_id"] or path.name
    sha, sm3 = report.manifests.get("sha256", {}), report.manifests.get("sm3", {})
    objects: dict[str, tuple[str, int]] = {}
    again: dict[str, object] = {}  # how to store each object again, should a destruction remove it meanwhile
    try:
        image_set = set()
        for c in contents:
            for rel in c.images:
                # the copy the check wrote in its read of this file: the very bytes it vouched for
                try:
                    staged = stager.adopt(report.root / rel, sha[rel], sm3[rel]) if stager is not None else None
                except CheckFailed as exc:  # the package's file was changed after the check
                    raise _changed(rel) from exc
                if staged is not None:
                    objects[sm3[rel]] = (sha[rel], staged)
                    again[sm3[rel]] = (report.root / rel, sha[rel])
                    image_set.add(rel)
                    continue
                if store.has(sm3[rel]):
                    # stored before (another package, an interrupted attempt): the store keeps its copy,
                    # but this package's file must still be the one that was checked
                    if file_digests(report.root / rel)[1:] != (sha[rel], sm3[rel]):
                        raise _changed(rel)
                try:
                    size = store.put_file(report.root / rel, sha[rel], sm3[rel])
                except CheckFailed as exc:  # the store refused bytes other than the checked ones
                    raise _changed(rel) from exc
                objects[sm3[rel]] = (sha[rel], size)
                again[sm3[rel]] = (report.root / rel, sha[rel])
                image_set.add(rel)
        # the package's own record: only what the check vouched for, as on the SQLite archive
        # (_copy_package_record): a file that appeared or changed since, or one that is gone, stops it
        record = {}
        seen = set()
        for item in sorted(report.root.rglob("*")):
            rel = item.relative_to(report.root).as_posix()
            if item.is_dir() and not item.is_symlink():
                continue
            if item.is_symlink() or not item.is_file() or rel not in report.verified:
                raise CheckFailed(
                    "{file} appeared in the package after it was checked; nothing was received. "
                    "Check the package again.",
                    "{file} 在检测后出现在移交包中；未接收任何内容。请重新检测移交包。",
                    file=rel,
                )
            seen.add(rel)
            if rel in image_set:
                continue
            data = item.read_bytes()
            if hashlib.new("sm3", data).hexdigest() != report.verified[rel]:
                raise _changed(rel)
            f_sha, f_sm3 = store.put_bytes(data)
            objects[f_sm3] = (f_sha, len(data))
            again[f_sm3] = data
            record[rel] = f_sm3
        gone = sorted(set(report.verified) - seen)
        if gone:
            raise _changed(gone[0])
        envelope_bytes = json.dumps(envelope, ensure_ascii=False, sort_keys=True).encode("utf-8")
        r_sha, r_sm3 = store.put_bytes(envelope_bytes)
        objects[r_sm3] = (r_sha, len(envelope_bytes))
        again[r_sm3] = envelope_bytes
        manifest = json.dumps(
            {"package": digest, "files": record, "images": sorted(image_set), "receipt": r_sm3},
            ensure_ascii=False,
            sort_keys=True,
        ).encode("utf-8")
        m_sha, m_sm3 = store.put_bytes(manifest)
        objects[m_sm3] = (m_sha, len(manifest))
        again[m_sm3] = manifest
    except OSError as exc:
        raise storage_error(Path(getattr(exc, "filename", "") or str(store.url)), exc) from exc
    from scanstation.transfer.receipts import file_base

    receipt_rel = f"outbox/receipts/{file_base(envelope['receipt'])}.json"
    stamp = now_iso()
    crash_point("receive.copied")  # everything stored, nothing committed (tests kill the desk here)
    with session.change("receive", "package.accept", "package", batch_id) as ch:
        _restore_removed(ch.conn, store, objects, again)
        package_id = _record(
            ch, session, report, path, digest, sample, "accepted", [], envelope, receipt_rel, f"store:{m_sm3}", stamp
        )
        for c in contents:
            _ingest_dossier(ch, session, c, package_id, stamp)
        for object_sm3, (object_sha, size) in sorted(objects.items()):
            ch.conn.execute(
                "INSERT OR IGNORE INTO store_objects(sm3, sha256, bytes, stored_at) VALUES (?, ?, ?, ?)",
                (object_sm3, object_sha, size, stamp),
            )
        ch.after = {
            "digest": digest,
            "receipt": receipt["receipt_id"],
            "dossiers": len(contents),
            "images": sum(len(c.images) for c in contents),
            "seed": sample["seed"],
            "record": m_sm3,
        }
    written, _ = _write_receipt(session, envelope, out_dir)
    result.update(
        decision="accepted",
        receipt=envelope,
        receipt_files=[str(p) for p in written],
        dossiers_accepted=sorted(numbers),
        kept=f"store:{m_sm3}",
    )
    return result


def _restore_removed(conn, store, objects: dict, again: dict) -> None:
    """The destruction procedure removes a store object no live page names, after its commit and under an
    exclusive lock (scanstation.storage.page_files). This desk holds that lock shared until it commits, so
    an object it names is either still there now or was removed before: then it is stored again here."""
    conn.lock_store_removals(shared=True)
    names = sorted(objects)
    for i in range(0, len(names), 500):
        chunk = names[i : i + 500]
        marks = ",".join("?" * len(chunk))
        for (sm3,) in conn.execute(f"SELECT sm3 FROM store_removals WHERE sm3 IN ({marks})", chunk).fetchall():
            if store.has(sm3) and store.check(sm3, objects[sm3][0]):
                continue
            source = again.get(sm3)
            if isinstance(source, bytes):
                store.put_bytes(source)
            elif source is not None:
                store.put_file(source[0], source[1], sm3)


def _ingest_dossier(ch, session: Session, c: verify.DossierContent, package_id: int, stamp: str) -> None:
    home = session.home
    meta = c.meta
    if meta is None:  # a dossier without its metadata fails the checks and is never ingested
        raise _changed(c.folder)
    f = meta.fields
    fonds = f.get("fonds_code") or home.fonds
    ch.conn.execute("INSERT OR IGNORE INTO fonds(code, name) VALUES (?, '')", (fonds,))

    def num(value):
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    cur = ch.conn.execute(
        "INSERT INTO dossiers(number, fonds_code, year, category, insurance_type, business_stage, retention, title,"
        " responsible, date, declared_pages, security_level, volume_no, item_no, box_no, person_name, person_id_number,"
        " employer, remarks, status, scanned_by, completed_by, qc_by, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'archived', ?, ?, ?, ?, ?)",
        (
            c.number,
            fonds,
            num(f.get("year")),
            f.get("category", ""),
            f.get("insurance_type", ""),
            f.get("business_stage", ""),
            f.get("retention", ""),
            f.get("title", ""),
            f.get("responsible", ""),
            f.get("date", ""),
            num(f.get("declared_pages")),
            f.get("security_level", ""),
            f.get("volume_no", ""),
            f.get("item_no", ""),
            f.get("box_no", ""),
            _store_value(home, "person_name", f.get("person_name", "")),
            _store_value(home, "person_id_number", f.get("person_id_number", "")),
            f.get("employer", ""),
            f.get("remarks", ""),
            f.get("scanned_by", ""),
            f.get("completed_by", ""),
            f.get("qc_by", ""),
            stamp,
            stamp,
        ),
    )
    dossier_id = cur.lastrowid
    said = meta.count_explanation  # R09/R10: an explained page-count difference stays with the dossier
    if said and said.get("text") and None not in (said.get("declared"), said.get("images"), said.get("not_scanned")):
        from scanstation.page_count import Explanation

        ch.conn.execute(
            "UPDATE dossiers SET count_explanation = ? WHERE id = ?",
            (
                Explanation(
                    said["declared"],
                    said["images"],
                    said["not_scanned"],
                    said["text"],
                    said.get("by", ""),
                    said.get("at", ""),
                ).to_json(),
                dossier_id,
            ),
        )
    for page in meta.pages:
        v = page.values
        m = layout.PAGE_FILE_RE.match(page.file_name)
        if m is None:  # names were checked (R11); a name that changed since is not ingested
            raise _changed(page.file_name)
        cur = ch.conn.execute(
            "INSERT INTO pages(dossier_id, seq, state, file_name, bytes, sha256, sm3, format, width, height, dpi,"
            " color_mode, compression, capture_time, device, software, operator, processing_log, qc_flags, note,"
            " created_at) VALUES (?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                dossier_id,
                int(m["seq"]),
                page.file_name,
                v["bytes"],
                page.checksums["sha256"],
                page.checksums["sm3"],
                v["format"],
                v["width"],
                v["height"],
                v["dpi"],
                v["color_mode"],
                v["compression"],
                v["capture_time"],
                json.dumps(v["device"], ensure_ascii=False),
                v["software"],
                v["operator"],
                v["processing_log"],
                v["qc_flags"],
                v["note"],
                stamp,
            ),
        )
        ch.conn.execute(
            "INSERT OR REPLACE INTO page_text(page_id, status, attempts, updated_at) VALUES (?, 'queued', 0, ?)",
            (cur.lastrowid, stamp),
        )
    for note in meta.notes:
        ch.conn.execute(
            "INSERT INTO pages(dossier_id, seq, state, original_page_no, note, operator, created_at)"
            " VALUES (?, NULL, 'not_scanned', ?, ?, ?, ?)",
            (dossier_id, note["original_page_no"], note["note"], f.get("scanned_by", ""), stamp),
        )
    ch.conn.execute("INSERT INTO received_dossiers(package_id, dossier_id) VALUES (?, ?)", (package_id, dossier_id))
    from scanstation.custody import search_sync

    search_sync.reindex_dossier(ch.conn, dossier_id)  # 档号, 题名, 姓名, 单位 and ID number findable at once
    ch.also(
        "dossier.archived",
        "dossier",
        c.number,
        None,
        {
            "status": "archived",
            "images": len(meta.pages),
            "package": package_id,
            "sm3": [page.checksums["sm3"] for page in meta.pages],
        },
    )


__all__ = ["draw_sample", "receive", "review_sample"]
