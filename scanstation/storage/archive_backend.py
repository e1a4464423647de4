"""Which backend an archive home uses: the embedded SQLite home (the default) or PostgreSQL plus a
content-addressed page store, as named by ``archive.json`` in the home folder.

``archive.json`` holds the database's connection string *without a password*, the store's location
(a folder or ``s3://bucket/prefix`` with an optional endpoint) and, optionally, the path of a
credentials file. Secrets come from the environment (``PGPASSWORD``, ``AWS_ACCESS_KEY_ID``, …) or
from that file, which must have mode 0600; they are never written to the home, the audit or logs.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from scanstation.errors import HomeError, InvalidInput, Refused

ARCHIVE_FILE = "archive.json"
ARCHIVE_FORMAT = 1
CREDENTIAL_KEYS = ("PGPASSWORD", "PGUSER", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def dsn_parts(dsn: str) -> dict:
    import psycopg

    try:
        return psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.Error as exc:
        raise InvalidInput(
            "'{dsn}' is not a PostgreSQL connection string (postgresql://user@host/dbname).",
            "“{dsn}”不是 PostgreSQL 连接串（postgresql://用户@主机/数据库）。",
            dsn=_mask(dsn),
        ) from exc


def _mask(dsn: str) -> str:
    from scanstation.storage.pg_catalog import redact

    return redact(dsn)


def check_dsn(dsn: str) -> str:
    if not (dsn or "").startswith(("postgresql://", "postgres://")):
        raise InvalidInput("--db must be a postgresql:// connection string.", "--db 须为 postgresql:// 连接串。")
    if dsn_parts(dsn).get("password"):
        raise Refused(
            "The connection string carries a password; it would be written into the archive home. Give it "
            "in PGPASSWORD or a credentials file with mode 0600 (--credentials FILE); nothing was changed.",
            "连接串中含有口令，会被写入档案工作目录。请通过 PGPASSWORD 或权限为 0600 的凭据文件（--credentials 文件）"
            "提供；未做任何修改。",
        )
    return dsn


def load_credentials(path: Path | str | None) -> None:
    """Put the file's KEY=VALUE secrets into this process's environment (what is already set wins)."""
    if not path:
        return
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise HomeError(
            "The credentials file {file} cannot be read ({error}).",
            "无法读取凭据文件 {file}（{error}）。",
            file=str(path),
            error=exc.strerror or str(exc),
        ) from exc
    if stat.S_IMODE(mode) & 0o077:
        raise Refused(
            "The credentials file {file} may be read by other users (mode {mode}); make it 0600 "
            "(chmod 600 {file}). Nothing was changed.",
            "凭据文件 {file} 可被其他用户读取（权限 {mode}）；请改为 0600（chmod 600 {file}）。未做任何修改。",
            file=str(path),
            mode=oct(stat.S_IMODE(mode)),
        )
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        if key not in CREDENTIAL_KEYS:
            raise InvalidInput(
                "The credentials file {file} names '{key}'; it may hold only {keys}.",
                "凭据文件 {file} 含有“{key}”；只能包含 {keys}。",
                file=str(path),
                key=key,
                keys=", ".join(CREDENTIAL_KEYS),
            )
        os.environ.setdefault(key, value)


def read_config(home_path: Path) -> dict:
    try:
        config = json.loads((Path(home_path) / ARCHIVE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise HomeError(
            "The archive home {home} is damaged: {file} cannot be read ({error}). Write it again with "
            "scanstation archive init.",
            "档案工作目录 {home} 已损坏：无法读取 {file}（{error}）。请用 scanstation archive init 重新生成。",
            home=str(home_path),
            file=ARCHIVE_FILE,
            error=str(exc),
        ) from exc
    if config.get("format", 0) > ARCHIVE_FORMAT:
        raise HomeError(
            "The archive home {home} was written by a newer ScanStation; install it. Nothing was changed.",
            "档案工作目录 {home} 由更新版本的 ScanStation 创建；请安装新版本。未做任何修改。",
            home=str(home_path),
        )
    return config


def write_config(home_path: Path, *, dsn: str, store: str, endpoint: str | None, credentials: str | None) -> dict:
    from scanstation.storage.files import write_atomic

    config = {
        "format": ARCHIVE_FORMAT,
        "catalog": {"backend": "postgresql", "dsn": check_dsn(dsn)},
        "store": {"url": store, "endpoint": endpoint or ""},
        "credentials": str(Path(credentials).resolve()) if credentials else "",
    }
    write_atomic(Path(home_path) / ARCHIVE_FILE, json.dumps(config, ensure_ascii=False, indent=2).encode("utf-8"))
    return config


def open_catalog(home_path: Path, config: dict | None = None):
    from scanstation.storage.pg_catalog import PgCatalog

    config = config or read_config(home_path)
    load_credentials(config.get("credentials"))
    return PgCatalog(config["catalog"]["dsn"])


def open_page_store(home_path: Path, config: dict | None = None):
    from scanstation.storage.page_store import open_store

    config = config or read_config(home_path)
    load_credentials(config.get("credentials"))
    return open_store(config["store"]["url"], config["store"].get("endpoint") or None)


__all__ = [
    "ARCHIVE_FILE",
    "check_dsn",
    "load_credentials",
    "open_catalog",
    "open_page_store",
    "read_config",
    "write_config",
]
