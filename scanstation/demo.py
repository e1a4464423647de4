"""`scanstation demo`: a whole year-end transfer on one machine, with no scanner and no display.

It builds two homes side by side — a scanning station and an archive room — and walks through
every step with real components: importing the sample 目录, scanning three dossiers with the demo
scanner, completing them, QC approval by another user, creating a batch, generating keys on both
sides and exchanging public keys, sealing and signing the package, sending it to a folder (the
"share"), the archive room's four-property check, acceptance sample and signed receipt, and the
station importing the receipt, then a search and a loan in the archive room. Users, passwords and
key passphrases are made up by the demo and printed.

With ``postgresql=True`` (``scanstation demo --postgresql``) the archive room runs on PostgreSQL and a
page store: a private cluster is started in the demo's folder (``initdb`` + ``pg_ctl`` on a Unix
socket there, as the tests do; as root the server runs as the ``postgres`` user) and stopped at the end.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from scanstation.errors import ScanStationError
from scanstation.home import Home
from scanstation.i18n import tr
from scanstation.service import Session
from scanstation.users import row_to_user

SAMPLE_CATALOG = Path(__file__).resolve().parent.parent / "resources" / "sample-catalog.xlsx"
DEMO_YEAR = 2024
DEMO_DOSSIERS = 3


def _resource_catalog() -> Path:
    for candidate in (SAMPLE_CATALOG, Path(__file__).resolve().parent / "resources" / "sample-catalog.xlsx"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(str(SAMPLE_CATALOG))


def _new_home(path: Path, fonds: str, station: str, role: str, admin: str, password: str) -> tuple[Home, Session]:
    from scanstation import settings
    from scanstation.service import init_home

    home = init_home(path, fonds, station, admin, password, kind=role, details={"demo": True})
    admin_session = _session(home, admin)
    settings.set_value(admin_session, "station.demo", True)  # audited: a demo home (the demo scanner serves it)
    return home, admin_session


def _session(home: Home, name: str) -> Session:
    return Session(home, row_to_user(home.catalog.one("SELECT * FROM users WHERE name = ?", (name,))))


def _new_pg_archive(path: Path, dsn: str, store: Path, admin: str, password: str) -> tuple[Home, Session]:
    from scanstation import settings
    from scanstation.service import init_archive

    home = init_archive(path, "X001", "A01", admin, password, dsn=dsn, store=str(store))
    admin_session = _session(home, admin)
    settings.set_value(admin_session, "station.demo", True)
    return home, admin_session


def run(base: Path | None = None, echo: Callable[[str], None] | None = print, postgresql: bool = False) -> dict:
    """Run the demo under ``base`` (default: a new temporary folder); returns what happened.

    ``postgresql``: the archive room on a private PostgreSQL cluster and a page store in ``base``."""
    from scanstation.service import add_user

    base = Path(base) if base else Path(tempfile.mkdtemp(prefix="scanstation-demo-"))
    base.mkdir(parents=True, exist_ok=True)
    station_path, archive_path = base / "station", base / "archive"
    share, to_station = base / "share", base / "receipts-for-station"
    users = {
        "station": {
            "demo-admin": ("admin", secrets.token_urlsafe(9)),
            "demo-clerk": ("clerk", secrets.token_urlsafe(9)),
            "demo-qc": ("qc", secrets.token_urlsafe(9)),
        },
        "archive": {
            "demo-archive-admin": ("admin", secrets.token_urlsafe(9)),
            "demo-archivist": ("archivist", secrets.token_urlsafe(9)),
        },
    }
    passphrases = {"station": secrets.token_urlsafe(12), "archive": secrets.token_urlsafe(12)}
    result: dict = {
        "ok": False,
        "base": str(base),
        "station_home": str(station_path),
        "archive_home": str(archive_path),
        "share": str(share),
        "users": {side: {n: {"role": r, "password": p} for n, (r, p) in u.items()} for side, u in users.items()},
        "key_passphrases": passphrases,
        "steps": [],
    }
    homes: list[Home] = []
    cluster = None

    def step(name: str, en: str, zh: str, **data) -> None:
        entry = {
            "step": name,
            "ok": True,
            "message": tr(en, zh, **{k: v for k, v in data.items() if isinstance(v, (str, int, float))}),
            "at_s": round(time.perf_counter() - started, 2),
            **data,
        }
        result["steps"].append(entry)
        if echo:
            echo(f"[{len(result['steps']):>2}] {entry['at_s']:>6.1f}s  {entry['message']}")

    started = time.perf_counter()
    try:
        if postgresql:  # first, so that a missing PostgreSQL is said before anything else is made
            from scanstation.storage.postgres_cluster import PrivateCluster

            cluster = PrivateCluster(base / "postgresql").start()
            result["postgresql"] = {"cluster": str(cluster.folder), "page_store": str(base / "page-store")}
            step(
                "postgresql",
                "Private PostgreSQL cluster started in {p} (Unix socket only; stopped when the demo ends).",
                "已在 {p} 启动私有 PostgreSQL 集群（仅 Unix 套接字；演示结束时停止）。",
                p=str(cluster.folder),
            )
        # -- the station ---------------------------------------------------------------------
        admin_name, (_, admin_pw) = next(iter(users["station"].items()))
        station, admin = _new_home(station_path, "X001", "S01", "station", admin_name, admin_pw)
        homes.append(station)
        for name, (role, pw) in list(users["station"].items())[1:]:
            add_user(admin, name, (role,), pw)
        step(
            "station",
            "Station home {p} created (fonds X001, station S01); users: {u}.",
            "已创建扫描站工作目录 {p}（全宗 X001，站点 S01）；用户：{u}。",
            p=str(station_path),
            u=", ".join(f"{n} ({r}, password {p})" for n, (r, p) in users["station"].items()),
        )
        clerk, qc_user = _session(station, "demo-clerk"), _session(station, "demo-qc")
        from scanstation import catalog_import

        imported = catalog_import.import_catalog(clerk, _resource_catalog())
        step("catalog", "Sample 目录 imported: {n} dossiers.", "已导入示例目录：{n} 个案卷。", n=imported.count)

        from scanstation import pages, qc
        from scanstation.capture import Capture
        from scanstation.profiles import get_profile

        chosen = station.catalog.query(
            "SELECT number, declared_pages FROM dossiers WHERE year = ? AND declared_pages BETWEEN 1 AND 6"
            " ORDER BY declared_pages, number LIMIT ?",
            (DEMO_YEAR, DEMO_DOSSIERS),
        )
        capture = Capture(clerk)
        try:
            for row in chosen:
                run_result = capture.start(row["number"], "demo", get_profile(station, None), pages=None).run()
                if run_result.error is not None:
                    raise run_result.error
                step(
                    "scan",
                    "Scanned {n}: {k} pages from the demo scanner.",
                    "已扫描 {n}：演示扫描仪 {k} 页。",
                    n=row["number"],
                    k=len(run_result.pages),
                )
                report = pages.complete(clerk, row["number"])
                if not report.completed:
                    explain = {
                        f"page:{f['seq']}": "演示：保留此页 / demo: kept on purpose" for f in report.unresolved_flags
                    }
                    if report.missing:
                        explain["missing"] = "演示：页数差异已说明 / demo: difference explained"
                    if report.extra:
                        explain["extra"] = "演示：页数差异已说明 / demo: difference explained"
                    report = pages.complete(clerk, row["number"], explain)
                if not report.completed:
                    raise ScanStationError(
                        "Dossier {n} could not be completed: {why}",
                        "案卷 {n} 无法完成：{why}",
                        n=row["number"],
                        why="; ".join(report.problems()),
                    )
                step(
                    "complete",
                    "Completed {n} ({s} images for {d} declared pages).",
                    "已完成 {n}（登记 {d} 页，图像 {s} 页）。",
                    n=row["number"],
                    s=report.scanned,
                    d=report.declared,
                )
                qc.approve(qc_user, row["number"])
                step(
                    "qc",
                    "QC approved {n} (by demo-qc, not the scanning clerk).",
                    "质检通过 {n}（由 demo-qc 质检，非扫描人）。",
                    n=row["number"],
                )
        finally:
            capture.close()

        from scanstation.transfer import batches, keys, outbox, receipts, receive, seal

        batch = batches.create(clerk, DEMO_YEAR, numbers=[r["number"] for r in chosen])
        step(
            "batch",
            "Batch {b} created: {d} dossiers of fonds X001, year {y}; deadline {dl}.",
            "已创建批次 {b}：全宗 X001、{y} 年度的 {d} 个案卷；截止日期 {dl}。",
            b=batch["batch_id"],
            d=batch["dossiers"],
            y=DEMO_YEAR,
            dl=batch["deadline"],
        )
        station_key = keys.generate(admin, "station-key", "sm2", passphrases["station"])
        station_pem = base / "station-key.pem"
        keys.export(admin, "station-key", station_pem)
        step(
            "station_key",
            "Station key generated (SM2, fingerprint {f}); public key exported to {p}.",
            "已生成本站密钥（SM2，指纹 {f}）；公钥已导出至 {p}。",
            f=station_key["fingerprint"][:16],
            p=str(station_pem),
        )

        # -- the archive room ----------------------------------------------------------------
        a_admin_name, (_, a_admin_pw) = next(iter(users["archive"].items()))
        if cluster is not None:
            archive, a_admin = _new_pg_archive(
                archive_path, cluster.create_database("archive"), base / "page-store", a_admin_name, a_admin_pw
            )
        else:
            archive, a_admin = _new_home(archive_path, "X001", "A01", "archive", a_admin_name, a_admin_pw)
        homes.append(archive)
        for name, (role, pw) in list(users["archive"].items())[1:]:
            add_user(a_admin, name, (role,), pw)
        step(
            "archive",
            "Archive room home {p} created ({b}); users: {u}.",
            "已创建档案室工作目录 {p}（{b}）；用户：{u}。",
            p=str(archive_path),
            b=tr("PostgreSQL + page store", "PostgreSQL + 页面存储") if cluster is not None else "SQLite",
            u=", ".join(f"{n} ({r}, password {p})" for n, (r, p) in users["archive"].items()),
        )
        archive_key = keys.generate(a_admin, "archive-key", "sm2", passphrases["archive"])
        archive_pem = base / "archive-key.pem"
        keys.export(a_admin, "archive-key", archive_pem)
        keys.trust(a_admin, "S01", station_pem)
        keys.trust(admin, "archive-room", archive_pem)
        step(
            "keys",
            "Keys exchanged: the archive room trusts the station key, the station trusts the archive key ({f}).",
            "已交换公钥：档案室信任本站密钥，本站信任档案室密钥（{f}）。",
            f=archive_key["fingerprint"][:16],
        )

        sealed = seal.seal(clerk, batch["batch_id"], "station-key", passphrases["station"])
        result["package_outbox"] = sealed["package"]
        result["tagmanifest_sm3"] = sealed["tagmanifest_sm3"]
        step(
            "seal",
            "Batch sealed into a BagIt package: {f} files, {b} bytes, SHA-256 + SM3, signed SM2 "
            "(tag manifest SM3 {t}).",
            "批次已封装为 BagIt 移交包：{f} 个文件，{b} 字节，SHA-256 + SM3，SM2 签名（标签清单 SM3 {t}）。",
            f=sealed["payload_files"],
            b=sealed["payload_bytes"],
            t=sealed["tagmanifest_sm3"][:16],
        )
        share.mkdir(exist_ok=True)
        sent = outbox.send(clerk, batch["batch_id"], share)
        result["package"] = sent["path"]
        step(
            "send",
            "Package sent to the share {p}, every byte verified there before the rename.",
            "移交包已送达共享目录 {p}，改名前已逐字节校验。",
            p=sent["path"],
        )

        archivist = _session(archive, "demo-archivist")
        received = receive.receive(
            archivist,
            sent["path"],
            decision="accept",
            passphrase=passphrases["archive"],
            key_name="archive-key",
            out_dir=to_station,
        )
        props = received["report"]["properties"]
        step(
            "verify",
            "Four-property check: authenticity {a}, integrity {i}, usability {u}, security {s}; "
            "malware scan {m}. Report: {r}.",
            "四性检测：真实性 {a}，完整性 {i}，可用性 {u}，安全性 {s}；恶意代码检测 {m}。报告：{r}。",
            a=props["authenticity"],
            i=props["integrity"],
            u=props["usability"],
            s=props["security"],
            m=received["report"]["malware"].get("status", ""),
            r=received["report_files"][0],
        )
        sample = received["sample"]
        step(
            "sample",
            "Acceptance sample (seed {seed}, {p} %): {d}; pass rate {r} %.",
            "抽样检验（种子 {seed}，{p} %）：{d}；合格率 {r} %。",
            seed=sample["seed"],
            p=sample["percent"],
            d=", ".join(sample["dossiers"]),
            r=sample["pass_rate"],
        )
        receipt_json = next(p for p in received["receipt_files"] if p.endswith(".json") and str(to_station) in p)
        result["receipt"] = receipt_json
        result["receipt_id"] = received["receipt"]["receipt"]["receipt_id"]
        step(
            "accept",
            "Accepted into the archive room ({n} dossiers archived); signed receipt {r}.",
            "已接收入档案室（{n} 个案卷归档）；已签发回执 {r}。",
            n=len(received["dossiers_accepted"]),
            r=receipt_json,
        )

        _search_and_lend(archive, archivist, a_admin, result, step)

        imported_receipt = receipts.import_receipt(clerk, receipt_json)
        result["batch_id"] = batch["batch_id"]
        result["batch_state"] = imported_receipt["state"]
        step(
            "receipt",
            "Receipt imported on the station: batch {b} is {s}; dossiers transferred: {d}.",
            "回执已在扫描站导入：批次 {b} 状态为 {s}；已移交案卷：{d}。",
            b=batch["batch_id"],
            s=imported_receipt["state"],
            d=", ".join(imported_receipt["dossiers"]["transferred"]),
        )
        result["ok"] = True
    except (ScanStationError, OSError) as exc:
        result["error"] = str(exc)
        result["steps"].append({"step": "error", "ok": False, "message": str(exc)})
        if echo:
            echo(tr("Demo stopped: {e}", "演示中止：{e}", e=str(exc)))
    finally:
        for home in homes:
            home.close()
        if cluster is not None:
            cluster.stop()
            if echo:
                echo(
                    tr(
                        "The private PostgreSQL cluster in {p} was stopped.",
                        "{p} 中的私有 PostgreSQL 集群已停止。",
                        p=str(cluster.folder),
                    )
                )
    result["seconds"] = round(time.perf_counter() - started, 2)
    if echo and result["ok"]:
        echo(
            tr(
                "Done in {s} s. Station: {st}  Archive room: {ar}",
                "完成，用时 {s} 秒。扫描站：{st}  档案室：{ar}",
                s=result["seconds"],
                st=str(station_path),
                ar=str(archive_path),
            )
        )
    return result


def _search_and_lend(archive: Home, archivist: Session, approver: Session, result: dict, step) -> None:
    """The archive room at work: the received dossiers found by 档号 and by a two-character word, one lent."""
    from scanstation.search import search_as

    first = archive.catalog.one("SELECT number, title FROM dossiers ORDER BY number LIMIT 1")
    by_number = search_as(archivist, first["number"])
    title = first["title"] or ""
    cjk = [i for i in range(len(title) - 1) if all("\u4e00" <= c <= "\u9fff" for c in title[i : i + 2])]
    word = title[cjk[0] : cjk[0] + 2] if cjk else first["number"]  # a two-character query, as desks type them
    by_word = search_as(archivist, word)
    result["search"] = {"number": first["number"], "word": word, "hits": [len(by_number), len(by_word)]}
    step(
        "search",
        "Search in the archive room: 档号 {n} → {a} hit(s); “{w}” → {b} hit(s).",
        "档案室检索：档号 {n} → {a} 条；“{w}” → {b} 条。",
        n=first["number"],
        a=len(by_number),
        w=word,
        b=len(by_word),
    )
    from scanstation.custody import lending

    loan = lending.request(archivist, first["number"], "演示：查阅 / demo: consultation", 7)
    approved = lending.approve(approver, loan["id"])
    result["loan"] = {"id": loan["id"], "number": first["number"], "due_at": approved["due_at"]}
    step(
        "lend",
        "Loan {id} of {n} requested by demo-archivist, approved by demo-archive-admin; due {d}.",
        "借阅单 {id}（{n}）由 demo-archivist 申请、demo-archive-admin 批准；到期 {d}。",
        id=loan["id"],
        n=first["number"],
        d=approved["due_at"],
    )


__all__ = ["run"]
