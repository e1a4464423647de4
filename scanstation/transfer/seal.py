"""Sealing a batch into a signed BagIt 1.0 package (RFC 8493) with the R28 layout.

Every page image is read exactly once: it is hard-linked into the package (or, across file systems,
copied) and hashed with SHA-256 and SM3 in that same read, files spread over a thread pool
(hashlib releases the GIL). The digests are compared with the checksums taken at capture (R22); a
mismatch stops the seal and names the file. Hard links are safe here because the image store
never writes into an existing file: every change writes a new file and renames it over the old
name, so the package keeps the bytes that were sealed.

What does not depend on the digests does not follow the reading: the calling thread writes the
per-dossier metadata XML, the 文件目录, the 档号 rules and the QC report while the signing key is
unlocked (scrypt, outside the GIL) on the other core, before the pool starts, so a wrong passphrase
is said before any image is read; then the pool hashes while those files are synced and the PDF
font is loaded. The register, the manifests and the signature, which need the digests, follow. The
rest of the files written into the hidden build folder are made durable while the package checks
itself, just before it is renamed into place.

The package is built in a hidden folder of the outbox and renamed into place only when complete,
signed and self-checked; a failed seal leaves nothing behind. Person ID numbers are written as
they are (the package is the official record) and nothing in it is encrypted (R31).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from datetime import date
from pathlib import Path

from scanstation import SOFTWARE_NAME, __version__, audit_anchor, page_count
from scanstation.errors import CheckFailed, InvalidInput, Refused, StorageError
from scanstation.home import now_iso
from scanstation.i18n import tr
from scanstation.rules import MIN_DPI
from scanstation.service import Session
from scanstation.storage.encryption import image_store
from scanstation.storage.files import copy_hashed, digests, storage_error
from scanstation.storage.image_store import ImageStore, is_encrypted_at_rest
from scanstation.transfer import bagit, batches, keys, malware, register, require_schema
from scanstation.transfer import package_layout as layout

ALLOWED_FORMATS = ("jpeg", "tiff", "jp2")
SIGNATURE_NAMES = {"sm2": "SM2-with-SM3", "ed25519": "Ed25519"}


def signature_label(algorithm: str) -> str:
    return SIGNATURE_NAMES.get(algorithm, algorithm)


# -- placing and hashing the images ---------------------------------------------------------
def place_and_hash(src: Path, dst: Path, store: ImageStore | None = None) -> tuple[int, str, str, str]:
    """Put ``src`` at ``dst`` (hard link, else copy) and hash it in the one read: (bytes, sha256, sm3, how).

    A page encrypted at rest (R40) is decrypted with the home's key and written plain: transfer
    packages are never encrypted (R31); its digests are those of the plain image, as captured."""
    if store is not None and store.cipher is not None and is_encrypted_at_rest(src):
        plain = store.read_file(src)
        with open(dst, "wb") as out:
            out.write(plain)
        sha, sm3 = digests(plain)
        return len(plain), sha, sm3, "decrypt"
    try:
        os.link(src, dst)
    except OSError:
        size, sha, sm3 = copy_hashed(src, dst)
        shutil.copystat(src, dst)
        return size, sha, sm3, "copy"
    size, sha, sm3 = copy_hashed(dst)
    return size, sha, sm3, "link"


def _sync(files: list[Path], root: Path, rels, workers: int) -> None:
    """Make what this seal wrote durable before the package is renamed into place.

    Linked images need nothing: the image store made them durable when they were captured; the new
    directory entries are covered by syncing the folders (``root`` and every folder above a path of
    ``rels``, which lists every file of the package). Only the files written here are synced.
    """
    from scanstation.storage.files import fsync_dir

    def one(path: Path) -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    folders = {""}
    for rel in rels:
        parts = rel.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folders.add("/".join(parts[:depth]))
    with ThreadPoolExecutor(max_workers=max(1, workers * 2), thread_name_prefix="seal-sync") as pool:
        list(pool.map(one, files))
        list(pool.map(fsync_dir, [root / f if f else root for f in sorted(folders)]))


# -- what goes in -----------------------------------------------------------------------------
def _reveal(home, field: str, value: str) -> str:
    from scanstation.storage.encryption import reveal

    return reveal(home, field, value)


def _check_dossiers(session: Session, batch: dict, dossiers: list[dict]) -> dict[int, tuple[list, list]]:
    """The R19 gate before anything is written: every dossier has images, contiguous, as declared."""
    store = image_store(session.home)
    from scanstation import dossier_number
    from scanstation.dossier_number import page_file_name

    schema = dossier_number.schema_for_home(session.home)
    problems, content = [], {}
    # every page of the batch in one query (not two per dossier)
    by_dossier: dict[int, tuple[list, list]] = {d["id"]: ([], []) for d in dossiers}
    for row in session.catalog.query(
        "SELECT p.* FROM pages p JOIN batch_dossiers bd ON bd.dossier_id = p.dossier_id WHERE bd.batch_id = ?"
        " AND p.state IN ('active', 'not_scanned') ORDER BY p.dossier_id, p.seq, p.original_page_no",
        (batch["id"],),
    ):
        kept = by_dossier.get(row["dossier_id"])
        if kept is not None:
            kept[0 if row["state"] == "active" else 1].append(row)
    for _pages, notes in by_dossier.values():
        notes.sort(key=lambda r: (r["original_page_no"] is not None, r["original_page_no"] or 0))
    for d in dossiers:
        n = d["number"]
        wrong = dossier_number.problems(n, schema, strict=True)
        if wrong:
            problems.append(
                tr("{n}: not a valid 档号 ({why})", "{n}：档号无效（{why}）", n=n, why="; ".join(str(p) for p in wrong))
            )
        if d["status"] != "batched" or d["batch_id"] != batch["id"]:
            problems.append(
                tr(
                    "{n}: status {s}, not batched in {b}",
                    "{n}：状态为 {s}，不属于批次 {b}",
                    n=n,
                    s=d["status"],
                    b=batch["batch_id"],
                )
            )
            continue
        pages, notes = by_dossier[d["id"]]
        if not pages:
            problems.append(tr("{n}: no page image (R19)", "{n}：没有图像（R19）", n=n))
            continue
        if [p["seq"] for p in pages] != list(range(1, len(pages) + 1)):
            problems.append(tr("{n}: page numbers are not contiguous from 0001", "{n}：页号不是从 0001 起连续", n=n))
        if not page_count.is_resolved(d["declared_pages"], len(pages), len(notes), page_count.of_dossier(d)):
            problems.append(
                tr(
                    "{n}: {i} images + {k} not-scanned notes for {p} declared pages, not explained "
                    "(R09/R10); complete the dossier again with an explanation, or correct 页数",
                    "{n}：登记 {p} 页，现有图像 {i} 页、未扫描说明 {k} 页，差异未说明（R09/R10）；"
                    "请重新完成案卷并说明差异，或更正页数",
                    n=n,
                    i=len(pages),
                    k=len(notes),
                    p=d["declared_pages"],
                )
            )
        for p in pages:
            if p["format"] not in ALLOWED_FORMATS:
                problems.append(
                    tr(
                        "{f}: format {fmt} is not jpeg/tiff/jp2 (R04)",
                        "{f}：格式 {fmt} 不是 jpeg/tiff/jp2（R04）",
                        f=p["file_name"],
                        fmt=p["format"],
                    )
                )
            elif p["file_name"] != page_file_name(n, p["seq"], p["format"]):
                problems.append(
                    tr(
                        "{f}: name does not follow {{档号}}-{{NNNN}} (R11)",
                        "{f}：文件名不符合 {{档号}}-{{NNNN}}（R11）",
                        f=p["file_name"],
                    )
                )
            if (p["dpi"] or 0) < MIN_DPI:
                problems.append(
                    tr(
                        "{f}: {d} dpi is below 200 dpi (R02)",
                        "{f}：{d} dpi 低于 200 dpi（R02）",
                        f=p["file_name"],
                        d=p["dpi"],
                    )
                )
            p["_source"] = store.path(n, p["file_name"])
            if not os.path.isfile(p["_source"]):
                problems.append(
                    tr("{f}: the image file is missing from the store", "{f}：图像文件在存储中缺失", f=p["file_name"])
                )
        content[d["id"]] = (pages, notes)
    if problems:
        raise Refused(
            "Batch {b} cannot be sealed: {list}. Correct these dossiers (cancel the batch first), then "
            "create and seal a new batch.",
            "批次 {b} 不能封装：{list}。请先撤销批次并更正这些案卷，再重新组批封装。",
            b=batch["batch_id"],
            list="; ".join(problems[:20]) + (" …" if len(problems) > 20 else ""),
        )
    return content


def _qc_report(session: Session, batch: dict, dossiers: list[dict], content) -> bytes:
    import xml.etree.ElementTree as ET

    root = ET.Element("质检报告", {"批次": batch["batch_id"]})
    for d in dossiers:
        decisions = session.catalog.query(
            "SELECT q.decision, q.reason, q.user, q.ts, p.seq FROM qc_decisions q"
            " LEFT JOIN pages p ON p.id = q.page_id WHERE q.dossier_id = ? ORDER BY q.id",
            (d["id"],),
        )
        approvals = [x for x in decisions if x["decision"] == "approve"]
        el = ET.SubElement(
            root,
            "案卷",
            {
                "档号": d["number"],
                "质检人": d["qc_by"] or "",
                "质检时间": approvals[-1]["ts"] if approvals else "",
                "结论": "通过",
                "扫描人": d["scanned_by"] or "",
                "完成人": d["completed_by"] or "",
            },
        )
        pages, notes = content[d["id"]]
        flags: dict[str, int] = {}
        for p in pages:
            for f in json.loads(p["qc_flags"] or "[]"):
                flags[f] = flags.get(f, 0) + 1
        ET.SubElement(
            el,
            "自动检查",
            {"图像数": str(len(pages)), "未扫描说明": str(len(notes)), "标记": json.dumps(flags, ensure_ascii=False)},
        )
        for x in decisions:
            ET.SubElement(
                el, "决定", {"类型": x["decision"], "页": str(x["seq"] or ""), "人员": x["user"], "时间": x["ts"]}
            ).text = x["reason"] or ""
    return layout.to_bytes(root)


def _description(reg: dict, batch: dict, signer_alg: str, fingerprint: str) -> bytes:
    lines = [
        "电子档案移交包 说明文件 / Description of the transfer package",
        "",
        f"批次号 Batch: {batch['batch_id']}",
        f"名称 Name: {reg['name']}",
        f"全宗号 Fonds: {batch['fonds_code']}    年度 Year: {batch['year']}",
        f"移交单位 Transferring unit: {reg['organization']}    站点 Station: {reg['station']}",
        f"封装时间 Sealed: {reg['sealed_at']}    移交截止日期 Deadline: {batch['deadline']}",
        f"案卷数 Dossiers: {reg['dossiers']}    图像文件数 Images: {reg['images']}    登记页数 Declared pages: {reg['declared_pages']}",
        f"文件总数 Files (电子档案/): {reg['files']}    数据量 Volume: {register.gb(reg['bytes'])} GB ({reg['bytes']} 字节)",
        f"摘要 Digest (SM3, 文件目录.xml 与 电子档案/): {reg['digest']}",
        "",
        "结构 Layout (DA/T 70, 电子档案移交与接收办法):",
        "  文件目录.xml            每个案卷一条：顺序号、档号、责任者、题名、日期、密级、文件名、备注",
        "  电子档案/{年度}/{类别}/{档号}/  页面图像 {档号}-{NNNN}.jpg|tif|jp2 与元数据 {档号}.xml",
        "  其他/                   档号规则、质检报告、移交登记表（XML 与 PDF）",
        "",
        "固定性 Fixity: BagIt 1.0 (RFC 8493); manifest-sha256.txt, manifest-sm3.txt, tagmanifest-sha256.txt,",
        "  tagmanifest-sm3.txt. SM3 = GB/T 32905-2016.",
        f"签名 Signature: {signature_label(signer_alg)} over tagmanifest-sm3.txt, detached in",
        "  tagmanifest-sm3.txt.sig (SM2: DER (r, s), ID 1234567812345678); public key in signer.pem.",
        f"  Signer key fingerprint (SM3 of the DER public key): {fingerprint}",
        "  OpenSSL: openssl pkeyutl -verify -pubin -inkey signer.pem -rawin -in tagmanifest-sm3.txt \\",
        "           -sigfile tagmanifest-sm3.txt.sig"
        + (" -digest sm3 -pkeyopt distid:1234567812345678" if signer_alg == "sm2" else ""),
        "",
        "本包不加密、不使用专有压缩（R31）。身份证号等个人信息按原样保存，接收方应按规定控制访问。",
        "The package is not encrypted and uses no proprietary compression (R31). Personal data is kept as is;",
        "the receiving archive controls access to it.",
        "",
    ]
    return "\n".join(lines).encode("utf-8")


def _explained(d: dict, pages: list, notes: list) -> bool:
    """R09/R10: the dossier's page-count difference is explained (scanstation.page_count)."""
    return (
        page_count.status(d["declared_pages"], len(pages), len(notes), page_count.of_dossier(d)) == page_count.EXPLAINED
    )


def _write_descriptive(session: Session, batch: dict, dossiers: list[dict], content, put) -> int:
    """Per-dossier metadata, the 文件目录, the 档号 rules and the QC report: everything of the package
    that does not depend on the digests of the images. Returns the declared page total."""
    home = session.home
    entries = []
    declared_total = 0
    for index, d in enumerate(dossiers, start=1):
        pages, notes = content[d["id"]]
        record = dict(d, count_explanation=page_count.of_dossier(d) if _explained(d, pages, notes) else None)
        for field in ("person_name", "person_id_number"):
            record[field] = _reveal(home, field, d.get(field) or "")
        folder = layout.dossier_dir(d["year"], d["category"], d["number"])
        put(
            f"{folder}/{layout.metadata_name(d['number'])}",
            layout.dossier_xml(record, pages, notes, batch_id=batch["batch_id"]),
        )
        declared_total += d["declared_pages"] or 0
        explained = page_count.of_dossier(d) if _explained(d, pages, notes) else None
        entries.append(
            {
                "seq": index,
                "number": d["number"],
                "responsible": d["responsible"],
                "title": d["title"],
                "date": d["date"],
                "security_level": d["security_level"],
                "file_name": folder.removeprefix("data/"),
                "remarks": d["remarks"],
                "year": d["year"],
                "retention": d["retention"],
                "declared_pages": d["declared_pages"],
                "images": len(pages),
                "count_explanation": explained.text if explained is not None else "",
            }
        )
    put(layout.CATALOG_XML, layout.catalog_xml(batch, entries))
    from scanstation import dossier_number

    schema = dossier_number.schema_for_home(home)
    put(layout.SCHEMA_JSON, (json.dumps(schema.as_dict(), ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    put(
        layout.SCHEMA_TXT,
        (
            f"档号结构 / 档号 schema: {schema.name}\n{schema.zh}\n{schema.en}\n"
            f"结构 Layout: {schema.layout_zh}\n示例 Example: {schema.example}\n"
            "级间用“-”，组内用“·”（U+00B7）。页面文件名：{档号}-{NNNN}.jpg|tif|jp2，自 0001 起连续。\n"
        ).encode(),
    )
    put(layout.QC_REPORT, _qc_report(session, batch, dossiers, content))
    return declared_total


def _warm_pdf() -> None:
    """Load the register PDF's font and layout code now (the first time costs a few tenths of a
    second), so that writing the register after the hashing is quick."""
    import reportlab.platypus  # noqa: F401

    from scanstation.transfer import pdf_report

    pdf_report.register_font()


# -- the seal --------------------------------------------------------------------------------
def seal(
    session: Session,
    ref,
    key_name: str,
    passphrase: str,
    *,
    carrier: str | None = None,
    workers: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    copies: tuple[str, ...] = (),
) -> dict:
    """Seal draft batch ``ref`` into ``outbox/{batch id}/`` and sign it with key ``key_name``.

    ``copies`` ("pdf", "ofd"): a derived double-layer copy ``{档号}.pdf``/``.ofd`` beside each
    dossier's images (R04), made by scanstation.export and counted in the register like any file."""
    started = time.perf_counter()
    session.require("batch.manage")
    copies = tuple(dict.fromkeys(copies or ()))
    if any(c not in ("pdf", "ofd") for c in copies):
        raise InvalidInput(
            "Derived copies are pdf or ofd, not {c}.", "派生副本只能是 pdf 或 ofd，不能是 {c}。", c=",".join(copies)
        )
    require_schema(session.catalog)
    home = session.home
    batch = batches.get(session.catalog, ref)
    if batch["state"] != "draft":
        raise Refused(
            "Batch {b} is {s}; only a draft batch is sealed.",
            "批次 {b} 当前为“{s_zh}”；只有草稿批次才能封装。",
            b=batch["batch_id"],
            s=batch["state"],
            s_zh=batches.STATE_ZH.get(batch["state"], batch["state"]),
        )
    # The key is unlocked (scrypt, a tenth of a second, outside the GIL) beside the checks and the
    # first reads; a wrong passphrase is still the first thing said, and nothing is kept.
    key_file = keys.load_key(home, key_name)
    unlocking = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seal-key")
    signer = unlocking.submit(key_file.signer, passphrase)
    unlocking.shutdown(wait=False)
    dossiers = batches.dossiers_of(session.catalog, batch["id"])
    try:
        content = _check_dossiers(session, batch, dossiers)
    except BaseException:
        signer.result()
        raise
    store = image_store(home)
    outbox = home.dir("outbox")
    final = outbox / batch["batch_id"]
    build = outbox / f".sealing-{batch['batch_id']}-{os.getpid()}"
    if build.exists():
        shutil.rmtree(build)
    workers = workers or os.cpu_count() or 1
    sealed_at = now_iso()
    try:
        return _build(
            session,
            batch,
            dossiers,
            content,
            store,
            build,
            final,
            signer,
            key_name,
            carrier,
            workers,
            sealed_at,
            started,
            progress,
            copies,
        )
    except OSError as exc:
        shutil.rmtree(build, ignore_errors=True)
        raise storage_error(build, exc) from exc
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise


def _build(
    session,
    batch,
    dossiers,
    content,
    store,
    build,
    final,
    signer,
    key_name,
    carrier,
    workers,
    sealed_at,
    started,
    progress,
    copies=(),
) -> dict:
    home = session.home
    manifest: dict[str, dict[str, str]] = {alg: {} for alg in layout.ALGORITHMS}
    sizes: dict[str, int] = {}
    written: list[Path] = []

    def put(rel: str, data: bytes) -> None:
        target = build / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as fh:
            fh.write(data)
        written.append(target)
        if rel.startswith("data/"):
            manifest["sha256"][rel] = hashlib.sha256(data).hexdigest()
            manifest["sm3"][rel] = hashlib.new("sm3", data).hexdigest()
            sizes[rel] = len(data)

    # 1. page images: placed and hashed in one read on the pool, compared with the capture checksums
    jobs = []
    for d in dossiers:
        folder = layout.dossier_dir(d["year"], d["category"], d["number"])
        (build / folder).mkdir(parents=True, exist_ok=True)
        for p in content[d["id"]][0]:
            jobs.append((f"{folder}/{p['file_name']}", p.get("_source") or store.path(d["number"], p["file_name"]), p))
    total = len(jobs)
    done = [0]
    count_lock = threading.Lock()

    def one(job):
        rel, src, page = job
        result = place_and_hash(src, build / rel, store)
        if progress:
            with count_lock:
                done[0] += 1
                n = done[0]
            progress("hash", n, total)
        return rel, page, result

    # 2. what does not need the digests is written first, while the key is unlocked on the other core
    #    (scrypt runs outside the GIL). Written during the hashing it would cost the pool as much time
    #    as it takes, not half: the pool's threads wait for the GIL this thread holds.
    declared_total = _write_descriptive(session, batch, dossiers, content, put)
    signer = signer.result()  # a wrong passphrase stops here, before any image is read
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, total or 1)), thread_name_prefix="seal")
    # the metadata is synced during the hashing (the disk is idle while the pool reads from the page
    # cache), leaving less to wait for at the end
    early_syncer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seal-sync")
    hashing_started = time.perf_counter()
    try:
        futures = [pool.submit(one, job) for job in jobs]
        synced_early = list(written)
        early_sync = early_syncer.submit(_sync, synced_early, build, (), workers)
        _warm_pdf()
        mismatched, how = [], set()
        # one wake-up when the pool is done (or a file failed), not one per file beside the hashing threads
        futures_wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            rel, page, (size, sha, sm3, mode) = future.result()
            how.add(mode)
            if mode in ("copy", "decrypt"):
                written.append(build / rel)
            if (size, sha, sm3) != (page["bytes"], page["sha256"], page["sm3"]):
                mismatched.append(page["file_name"])
            manifest["sha256"][rel], manifest["sm3"][rel], sizes[rel] = sha, sm3, size
        hashing_done = time.perf_counter()
    finally:
        # nothing may still write into the build folder when it is removed after a failure
        pool.shutdown(wait=True, cancel_futures=True)
        early_syncer.shutdown(wait=True)
    if mismatched:
        raise CheckFailed(
            "Sealing stopped: {n} image file(s) differ from the checksums taken at capture: {files}. "
            "The files were changed or damaged on disk; restore them from the backup, then seal again.",
            "封装已停止：{n} 个图像文件与采集时记录的校验值不符：{files}。文件已被修改或损坏；请从备份恢复后重新封装。",
            n=len(mismatched),
            files=", ".join(sorted(mismatched)[:20]),
        )

    # derived copies (double-layer PDF / OFD) beside the images, from the same checked masters
    if copies:
        from scanstation.export import load_pages
        from scanstation.export.copies import render_copy

        for d in dossiers:
            source = load_pages(session.catalog, store, d)
            for fmt in copies:
                put(
                    f"{layout.dossier_dir(d['year'], d['category'], d['number'])}/{d['number']}.{fmt}",
                    render_copy(source, fmt)[0],
                )

    # 3. the register (it needs the digests of the above), the description
    records = {rel: size for rel, size in sizes.items() if rel.startswith(layout.RECORDS_DIR + "/")}
    images = sum(len(content[d["id"]][0]) for d in dossiers)
    scan = malware.scan(build / "data")
    fonds_row = session.catalog.one("SELECT name FROM fonds WHERE code = ?", (batch["fonds_code"],))
    organization = (fonds_row or {}).get("name") or f"全宗 {batch['fonds_code']}"
    formats = sorted({p["format"] for d in dossiers for p in content[d["id"]][0]})
    explained = []
    for d in dossiers:
        pages, notes = content[d["id"]]
        e = page_count.of_dossier(d) if _explained(d, pages, notes) else None
        if e is not None:
            explained.append(
                {
                    "number": d["number"],
                    "declared": e.declared,
                    "images": e.images,
                    "not_scanned": e.not_scanned,
                    "text": e.text,
                    "by": e.by,
                }
            )
    reg = {
        "explained": explained,
        "batch_id": batch["batch_id"],
        "fonds": batch["fonds_code"],
        "year": batch["year"],
        "name": f"{batch['fonds_code']} 全宗 {batch['year']} 年度社会保险业务电子档案移交（批次 {batch['batch_id']}）",
        "description": f"{len(dossiers)} 个案卷的页面图像（{'/'.join(formats)}）及其元数据、文件目录、档号规则、质检报告",
        "organization": organization,
        "station": home.station,
        "carrier": carrier or "离线存储介质或网络共享目录（文件夹 / ZIP）",
        "deadline": batch["deadline"],
        "sealed_at": sealed_at,
        "dossiers": len(dossiers),
        "images": images,
        "declared_pages": declared_total,
        "files": len(records),
        "bytes": sum(records.values()),
        "digest": layout.register_digest(manifest["sm3"]),
        "checks": {
            "sender": {
                "authenticity": {"result": "pass", "note": f"{images} 个图像的 SHA-256/SM3 与采集时一致；档号符合规则"},
                "integrity": {
                    "result": "pass",
                    "note": f"{len(dossiers)} 个案卷的图像与未扫描说明合计等于登记页数"
                    + (f"（其中 {len(explained)} 个案卷的差异已说明，见页数说明）" if explained else "")
                    + "，页号连续",
                },
                "usability": {
                    "result": "pass",
                    "note": f"格式 {'/'.join(formats)}，分辨率 ≥ 200 dpi，元数据为 UTF-8 XML",
                },
                "security": {
                    "result": "pass" if scan["status"] in ("clean", "not_available") else "fail",
                    "note": f"不加密、无链接；恶意代码检测：{malware.describe(scan)}",
                },
            }
        },
        "signatures": {
            "sender": {
                "organization": organization,
                "handler": session.user.name,
                "reviewer": "",
                "date": sealed_at[:10],
            },
            "receiver": {},
        },
        "footnote": "接收方的检测结果与签署见接收回执（回执按标签清单的 SM3 摘要指明本包）。",
    }
    if scan["status"] == "infected":
        raise CheckFailed(
            "Sealing stopped: the malware scan found {found}.",
            "封装已停止：恶意代码检测发现 {found}。",
            found="; ".join(scan.get("findings", []))[:500],
        )
    put(layout.REGISTER_XML, register.register_xml(reg))
    put(layout.REGISTER_PDF, register.register_pdf(reg))
    put(layout.DESCRIPTION, _description(reg, batch, signer.algorithm, signer.fingerprint))

    # 4. the bag: manifests, bag-info, declaration, tag manifests, signature
    for alg in layout.ALGORITHMS:
        written.append(bagit.write_manifest(build, alg, manifest[alg], durable=False))
    payload_bytes, payload_files = sum(sizes.values()), len(sizes)
    info = [
        ("Source-Organization", organization),
        ("Contact-Name", session.user.name),
        ("External-Description", reg["name"]),
        ("Bagging-Date", date.today().isoformat()),
        ("External-Identifier", batch["batch_id"]),
        ("Bag-Group-Identifier", f"{batch['fonds_code']}-{batch['year']}"),
        ("Bag-Count", "1 of 1"),
        ("Bag-Size", f"{register.gb(payload_bytes)} GB"),
        ("Payload-Oxum", f"{payload_bytes}.{payload_files}"),
        ("Internal-Sender-Identifier", home.station),
        ("Internal-Sender-Description", f"{SOFTWARE_NAME} {__version__}"),
        ("Station-Id", home.station),
        ("Fonds-Code", batch["fonds_code"]),
        ("Archive-Year", str(batch["year"])),
        ("Dossier-Count", str(len(dossiers))),
        ("Image-File-Count", str(images)),
        ("Transfer-Deadline", batch["deadline"]),
        ("Signature-Algorithm", f"{signature_label(signer.algorithm)} ({layout.SIGNATURE})"),
    ]
    written.append(bagit.write_bag_info(build, info, durable=False))
    written.append(bagit.write_bagit_txt(build, durable=False))
    # the station's signed audit checkpoint travels in the package (and stays in the home)
    put(audit_anchor.PACKAGE_FILE, audit_anchor.to_bytes(audit_anchor.make(home, signer, f"seal {batch['batch_id']}")))
    tag_files = (
        ["bagit.txt", "bag-info.txt"]
        + [f"manifest-{alg}.txt" for alg in layout.ALGORITHMS]
        + [audit_anchor.PACKAGE_FILE]
    )
    tag_digests = {}
    for rel in tag_files:
        data = (build / rel).read_bytes()
        tag_digests[rel] = {"sha256": hashlib.sha256(data).hexdigest(), "sm3": hashlib.new("sm3", data).hexdigest()}
    for alg in layout.ALGORITHMS:
        written.append(
            bagit.write_manifest(build, alg, {rel: d[alg] for rel, d in tag_digests.items()}, tag=True, durable=False)
        )
    signed = (build / layout.SIGNED_TAG_MANIFEST).read_bytes()
    put(layout.SIGNATURE, signer.sign(signed))
    put(layout.SIGNER_PEM, signer.public_pem.encode("ascii"))
    tagmanifest_sm3 = hashlib.new("sm3", signed).hexdigest()

    # 5. self-check of the structure (no payload re-read) while the written files are synced (the
    #    disk waits while the check computes), then into place
    early_sync.result()
    synced = set(synced_early)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="seal-sync") as syncer:
        syncing = syncer.submit(_sync, [w for w in written if w not in synced], build, sizes, workers)
        check = bagit.validate_bag(
            build, fast=True, algorithms=layout.ALGORITHMS, require_tag_manifest=True, strict=True
        )
        syncing.result()
    if not check.valid:
        raise CheckFailed(
            "The sealed package failed its own check: {why}. Nothing was kept; report this problem.",
            "封装后的自检未通过：{why}。未保留任何内容；请报告此问题。",
            why="; ".join(p.en for p in check.problems[:5]),
        )
    if final.exists():
        final.rename(final.with_name(f"{final.name}.superseded-{sealed_at[:19].replace(':', '')}"))
    try:
        os.replace(build, final)
    except OSError as exc:
        raise StorageError(
            "Cannot put the package into the outbox: {error}.",
            "无法将移交包放入发件箱：{error}。",
            error=exc.strerror or str(exc),
        ) from exc
    details = dict(
        batch["details"],
        sealed_at=sealed_at,
        sealed_by=session.user.name,
        key=key_name,
        signature_algorithm=signer.algorithm,
        signer_fingerprint=signer.fingerprint,
        payload_oxum=f"{payload_bytes}.{payload_files}",
        payload_files=payload_files,
        payload_bytes=payload_bytes,
        images=images,
        image_bytes=sum(s for r, s in records.items() if not r.endswith(".xml")),
        dossiers=len(dossiers),
        register_digest=reg["digest"],
        carrier=reg["carrier"],
        malware=scan,
        placement=sorted(how),
    )
    rel_path = str(final.relative_to(home.path))
    try:
        with session.change("batch.manage", "batch.seal", "batch", batch["batch_id"]) as ch:
            updated = ch.conn.execute(
                "UPDATE batches SET state = 'sealed', package_path = ?, tagmanifest_sm3 = ?, details = ?, updated_at = ?"
                " WHERE id = ? AND state = 'draft'",
                (rel_path, tagmanifest_sm3, json.dumps(details, ensure_ascii=False), now_iso(), batch["id"]),
            ).rowcount
            if updated != 1:
                raise Refused(
                    "Batch {b} changed while it was sealed; nothing was kept.",
                    "封装过程中批次 {b} 发生了变化；未保留任何内容。",
                    b=batch["batch_id"],
                )
            ch.before = {"state": "draft"}
            ch.after = {
                "state": "sealed",
                "package": rel_path,
                "tagmanifest_sm3": tagmanifest_sm3,
                "signer": signer.fingerprint,
                "algorithm": signer.algorithm,
                "payload_oxum": details["payload_oxum"],
                **({"copies": list(copies)} if copies else {}),
            }
    except BaseException:
        shutil.rmtree(final, ignore_errors=True)
        raise
    ended = time.perf_counter()
    seconds = ended - started
    return {
        "batch_id": batch["batch_id"],
        "state": "sealed",
        "package": str(final),
        "tagmanifest_sm3": tagmanifest_sm3,
        "signature_algorithm": signer.algorithm,
        "signer_fingerprint": signer.fingerprint,
        "dossiers": len(dossiers),
        "images": images,
        "payload_files": payload_files,
        "payload_bytes": payload_bytes,
        "register_digest": reg["digest"],
        "malware": scan,
        "seconds": round(seconds, 3),
        # where the time went (bench/transfer.py): the checks, metadata and key before the pool starts,
        # the pool's reading and hashing, and the register, manifests, signature, self-check and sync after
        "stages_s": {
            "before_hashing": round(hashing_started - started, 3),
            "hashing": round(hashing_done - hashing_started, 3),
            "after_hashing": round(ended - hashing_done, 3),
        },
    }


__all__ = ["place_and_hash", "seal", "signature_label"]
