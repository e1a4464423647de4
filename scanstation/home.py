"""The station home: one folder with the catalog, images, outbox, keys and logs.

Opening a home checks, before anything is written: it exists and was initialised, it is not
newer than this program, no other running station holds it, and its catalog can be read.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from scanstation import __version__, settings
from scanstation.clock import now_iso
from scanstation.errors import HomeError, HomeLocked, InvalidInput
from scanstation.storage.catalog import Catalog, damaged_message

HOME_FORMAT = 1
STATION_FILE = "station.json"
CATALOG_FILE = "catalog.sqlite"
SUBDIRS = ("images", "originals", "quarantine", "outbox", "inbox", "archive", "keys", "logs", "reports")


def default_home() -> Path:
    env = os.environ.get("SCANSTATION_HOME")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("ScanStation", appauthor=False))


def upgrade_wait_message() -> str:
    """What a desk says while it waits for another desk to upgrade the archive database."""
    from scanstation.i18n import tr

    return tr(
        "Another desk is upgrading the archive database to this version of ScanStation. This desk waits until "
        "it has finished, then opens; on a large archive this can take an hour or more. Do not close it.",
        "另一台工作站正在将档案数据库升级到本版本 ScanStation 的结构。本工作站将等待其完成后再打开；"
        "档案量大时可能需要一小时以上，请勿关闭。",
    )


class _HomeLock:
    """An exclusive advisory lock on ``home/.lock`` held while the home is open.

    Re-entrant within one process (the GUI and its tasks share it), exclusive between processes.
    """

    _held: dict[str, tuple[object, int]] = {}

    def __init__(self, home: Path, shared: bool = False):
        self.key = str(home.resolve())
        self.path = home / ".lock"
        self.shared = shared  # a home whose catalog is a database server: several desks may open it
        self.first = False

    def acquire(self) -> None:
        if self.key in self._held:
            handle, count = self._held[self.key]
            self._held[self.key] = (handle, count + 1)
            return
        handle = open(self.path, "a+")
        try:
            if sys.platform == "win32":
                import msvcrt

                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(handle.fileno(), (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            holder = ""
            try:
                holder = self.path.read_text(encoding="utf-8").strip()
            except OSError:
                pass
            raise HomeLocked(
                "The home {home} is in use by another running station ({holder}). Close it first; nothing was changed.",
                "工作目录 {home} 正被另一个运行中的扫描站使用（{holder}）。请先关闭它；未做任何修改。",
                home=str(self.path.parent),
                holder=holder or "?",
            )
        if not self.shared:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}")
            handle.flush()
        self._held[self.key] = (handle, 1)
        # this process now holds the home alone: leftovers of killed processes may go (never on a shared home,
        # where another desk's temporary files are live)
        self.first = not self.shared

    def release(self) -> None:
        if self.key not in self._held:
            return
        handle, count = self._held[self.key]
        if count > 1:
            self._held[self.key] = (handle, count - 1)
            return
        del self._held[self.key]
        handle.close()


@dataclass
class StationInfo:
    format: int
    fonds: str
    station: str
    created: str
    software: str
    role: str = "station"  # station | archive (an archive room's home)
    backend: str = "sqlite"  # sqlite | postgresql (an archive home naming a server and a page store: archive.json)


class Home:
    """An open station home. Use ``Home.open`` or ``Home.create``; close when done."""

    def __init__(self, path: Path, info: StationInfo, catalog: Catalog, lock: _HomeLock):
        self.path = path
        self.info = info
        self.catalog = catalog
        self._lock = lock
        self._page_store = None

    @property
    def page_store(self):
        """The content-addressed page store of an archive home on a server backend (None on SQLite)."""
        if self.info.backend == "sqlite":
            return None
        if self._page_store is None:
            from scanstation.storage import archive_backend

            self._page_store = archive_backend.open_page_store(self.path)
        return self._page_store

    # -- layout ------------------------------------------------------------------------
    def page_files(self, cipher=None):
        """The page files as custody reads, checks and removes them (scanstation.storage.page_files):
        the image folders of a SQLite home (``cipher`` decrypts files encrypted at rest), or the page store."""
        from scanstation.storage import page_files

        if self.page_store is not None:
            return page_files.StoreFiles(self.page_store, self.catalog)
        from scanstation.storage.image_store import ImageStore

        return page_files.ImageFiles(ImageStore(self.path, cipher), self.path)

    @property
    def images(self) -> Path:
        return self.path / "images"

    @property
    def originals(self) -> Path:
        return self.path / "originals"

    @property
    def quarantine(self) -> Path:
        return self.path / "quarantine"

    def dir(self, name: str) -> Path:
        folder = self.path / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @property
    def station(self) -> str:
        return self.info.station

    @property
    def fonds(self) -> str:
        return self.info.fonds

    # -- settings (JSON values in the catalog) ------------------------------------------
    def setting(self, key: str, default=None):
        return settings.read(self.catalog, key, default)

    def set_setting(self, key: str, value) -> None:
        """Unaudited: for set-up and tests; an administrator's change goes through ``settings.set_value``."""
        with self.catalog.write() as conn:
            settings.store(conn, key, value)

    # -- life cycle --------------------------------------------------------------------
    @classmethod
    def create(cls, path: Path, fonds: str, station: str, role: str = "station") -> Home:
        path = Path(path)
        if (path / STATION_FILE).exists():
            raise HomeError(
                "{home} is already a station home; nothing was changed.",
                "{home} 已经是扫描站工作目录；未做任何修改。",
                home=str(path),
            )
        if path.exists() and any(path.iterdir()):
            raise HomeError(
                "{home} is not empty. Choose an empty or new folder for the station home.",
                "{home} 不是空目录。请为扫描站工作目录选择一个空的或新的目录。",
                home=str(path),
            )
        path.mkdir(parents=True, exist_ok=True)
        make_private(path)  # the catalog, images and keys are for this station's account only
        lock = _HomeLock(path)
        lock.acquire()
        try:
            for sub in SUBDIRS:
                (path / sub).mkdir(exist_ok=True)
            make_private(path / "keys")
            info = StationInfo(
                format=HOME_FORMAT,
                fonds=fonds,
                station=station,
                created=now_iso(),
                software=f"ScanStation {__version__}",
                role=role,
            )
            _create_private(path / CATALOG_FILE)  # SQLite gives its -wal and -shm files the catalog's mode
            catalog = Catalog(path / CATALOG_FILE)
            catalog.migrate()
            with catalog.write() as conn:
                conn.execute("INSERT INTO fonds(code, name) VALUES (?, '')", (fonds,))
            _write_json_atomic(path / STATION_FILE, info.__dict__)
        except BaseException:
            lock.release()
            raise
        _start_temp_files(path, lock)
        return cls(path, info, catalog, lock)

    @classmethod
    def open(cls, path: Path | None = None, *, on_wait: Callable[[], None] | None = None) -> Home:
        """Open the home at ``path``. ``on_wait``: called when an archive home's database is being
        upgraded by another desk and this one has to wait for it (see :func:`upgrade_wait_message`)."""
        path = Path(path) if path else default_home()
        station_file = path / STATION_FILE
        if not station_file.exists():
            raise HomeError(
                "No station home at {home}. Create one with: scanstation init --fonds CODE --station ID --admin NAME",
                "{home} 不是扫描站工作目录。请先创建：scanstation init --fonds 全宗号 --station 站点编号 --admin 管理员",
                home=str(path),
            )
        try:
            raw = json.loads(station_file.read_text(encoding="utf-8"))
            info = StationInfo(**raw)
        except (OSError, ValueError, TypeError) as exc:
            raise HomeError(
                "The home {home} is damaged: {file} cannot be read ({error}). Restore it from a backup.",
                "工作目录 {home} 已损坏：无法读取 {file}（{error}）。请从备份恢复。",
                home=str(path),
                file=STATION_FILE,
                error=str(exc),
            ) from exc
        if info.format > HOME_FORMAT:
            raise HomeError(
                "The home {home} was made by a newer ScanStation (format {found}); this program reads format {known}. "
                "Install the newer version; nothing was changed.",
                "工作目录 {home} 由更新版本的 ScanStation 创建（格式 {found}，本程序支持 {known}）。请安装新版本；未做任何修改。",
                home=str(path),
                found=info.format,
                known=HOME_FORMAT,
            )
        if info.backend == "postgresql":
            return cls._open_server(path, info, on_wait)
        lock = _HomeLock(path)
        lock.acquire()
        try:
            catalog_path = path / CATALOG_FILE
            if not catalog_path.exists():
                raise HomeError(
                    "The home {home} is damaged: its catalog is missing. Restore it from a backup.",
                    "工作目录 {home} 已损坏：目录数据库丢失。请从备份恢复。",
                    home=str(path),
                )
            catalog = Catalog(catalog_path)
            try:
                catalog.check_version()
                catalog.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                catalog.migrate()
            except sqlite3.DatabaseError as exc:
                catalog.close()
                raise damaged_message(catalog_path, exc) from exc
            except HomeError:
                catalog.close()
                raise
        except BaseException:
            lock.release()
            raise
        _start_temp_files(path, lock)
        return cls(path, info, catalog, lock)

    @classmethod
    def _open_server(cls, path: Path, info: StationInfo, on_wait: Callable[[], None] | None = None) -> Home:
        """An archive home whose catalog is on PostgreSQL: several desks open it at once."""
        from scanstation.storage import archive_backend

        lock = _HomeLock(path, shared=True)
        lock.acquire()
        try:
            catalog = archive_backend.open_catalog(path)
            try:
                catalog.check_version()
                catalog.migrate(on_wait=on_wait)
            except BaseException:
                catalog.close()
                raise
        except BaseException:
            lock.release()
            raise
        _start_temp_files(path, lock)
        return cls(path, info, catalog, lock)

    @classmethod
    def create_archive(
        cls,
        path: Path,
        fonds: str,
        station: str,
        *,
        dsn: str,
        store: str,
        endpoint: str | None = None,
        credentials: str | None = None,
    ) -> Home:
        """``archive init``: a home folder naming a PostgreSQL catalog and a page store, both made ready.

        The database may already hold the archive (another desk's home): then this home joins it."""
        from scanstation.storage import archive_backend

        path = Path(path)
        if (path / STATION_FILE).exists():
            raise HomeError(
                "{home} is already a home; nothing was changed.",
                "{home} 已经是工作目录；未做任何修改。",
                home=str(path),
            )
        if path.exists() and any(path.iterdir()):
            raise HomeError(
                "{home} is not empty. Choose an empty or new folder for the archive home.",
                "{home} 不是空目录。请为档案工作目录选择一个空的或新的目录。",
                home=str(path),
            )
        archive_backend.check_dsn(dsn)
        archive_backend.load_credentials(credentials)
        from scanstation.storage.page_store import open_store

        page_store = open_store(store, endpoint)
        from scanstation.storage.pg_catalog import PgCatalog

        catalog = PgCatalog(dsn)  # reachable before anything is written
        created = not path.exists()
        lock = None
        try:
            page_store.create()
            catalog.migrate()
            with catalog.write() as conn:
                conn.execute("INSERT OR IGNORE INTO fonds(code, name) VALUES (?, '')", (fonds,))
            path.mkdir(parents=True, exist_ok=True)
            lock = _HomeLock(path, shared=True)
            lock.acquire()
            for sub in SUBDIRS:
                (path / sub).mkdir(exist_ok=True)
            archive_backend.write_config(path, dsn=dsn, store=store, endpoint=endpoint, credentials=credentials)
            info = StationInfo(
                format=HOME_FORMAT,
                fonds=fonds,
                station=station,
                created=now_iso(),
                software=f"ScanStation {__version__}",
                role="archive",
                backend="postgresql",
            )
            _write_json_atomic(path / STATION_FILE, info.__dict__)
        except BaseException:
            catalog.close()
            if lock is not None:
                lock.release()
            if created:
                import shutil

                shutil.rmtree(path, ignore_errors=True)
            raise
        home = cls(path, info, catalog, lock)
        home._page_store = page_store
        return home

    def close(self) -> None:
        try:
            self.catalog.close()
        finally:
            self._lock.release()

    def __enter__(self) -> Home:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _start_temp_files(path: Path, lock: _HomeLock) -> None:
    """Temporary files go under the home; what a killed process left there is swept (storage.temp_files)."""
    from scanstation.storage import temp_files

    temp_files.use_home(path)
    if lock.first:
        temp_files.sweep(path)


def make_private(path: Path) -> None:
    """Owner-only access to a folder of the home (0700); file systems without POSIX modes keep theirs."""
    from scanstation.storage.files import PRIVATE_DIR_MODE

    try:
        os.chmod(path, PRIVATE_DIR_MODE)
    except OSError:
        pass


def _create_private(path: Path) -> None:
    from scanstation.storage.files import PRIVATE_FILE_MODE

    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE)
    os.close(fd)
    try:
        os.chmod(path, PRIVATE_FILE_MODE)
    except OSError:
        pass


def _write_json_atomic(path: Path, data) -> None:
    from scanstation.storage.files import write_atomic

    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"))


def validate_code(value: str, what_en: str, what_zh: str) -> str:
    """Fonds codes and station ids: letters, digits, '-' and '_' (they end up in file names)."""
    import re

    value = (value or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}", value):
        raise InvalidInput(
            what_en + " '{value}' is not valid: use 1-32 letters, digits, '-' or '_'.",
            what_zh + "“{value}”无效：只能使用 1-32 个字母、数字、“-”或“_”。",
            value=value,
        )
    return value
