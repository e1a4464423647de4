"""A private PostgreSQL cluster in a folder: for tests, benchmarks and the demo, never for production.

``PrivateCluster(folder).start()`` runs Debian's ``initdb`` into ``folder/data`` and ``pg_ctl`` with the
Unix socket in ``folder`` (no TCP port, nothing shared with a system cluster), and ``stop()`` ends it.
PostgreSQL refuses to run as root: when this process is root the server runs as the ``postgres`` user
that Debian's package creates (via ``runuser``), and the folder is handed to that user.

A production archive names its own server in its home (``archive init --db postgresql://…``).
"""

from __future__ import annotations

import glob
import os
import pwd
import subprocess
import time
from pathlib import Path

from scanstation.errors import ProgramError
from scanstation.storage import external

INSTALL_HINT = "sudo apt-get install --no-install-recommends postgresql"


class ClusterError(ProgramError):
    """A PostgreSQL server program is missing, failed or did not answer."""


def server_bin_dir() -> Path | None:
    """Debian keeps the server programs in /usr/lib/postgresql/<major>/bin; the newest wins."""
    explicit = os.environ.get("SCANSTATION_PG_BIN")
    if explicit:
        return Path(explicit) if (Path(explicit) / "initdb").exists() else None
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = external.which("initdb")
    return Path(found).parent if found else None


def available() -> bool:
    return server_bin_dir() is not None


class PrivateCluster:
    """One throw-away cluster; ``dsn`` connects over its Unix socket as the superuser ``scanstation``."""

    SUPERUSER = "scanstation"

    def __init__(self, folder: Path | str, port: int = 5432):
        self.folder = Path(folder)
        self.data = self.folder / "data"
        self.port = port
        self.bin = server_bin_dir()
        self._as_postgres = os.geteuid() == 0
        self._started = False

    # -- helpers -------------------------------------------------------------------------
    def _run(self, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_postgres else []
        try:  # the exit code is read by the caller (_check, pg_isready)
            return external.run(args[0], args[1:], timeout=timeout, prefix=prefix, ok_codes=tuple(range(256)))
        except external.ProgramMissing as exc:
            raise ClusterError(exc.en, exc.zh) from exc
        except external.ProgramTimeout as exc:
            raise ClusterError(
                "PostgreSQL did not answer within {s} s ({cmd}).",
                "PostgreSQL 在 {s} 秒内没有响应（{cmd}）。",
                s=int(timeout),
                cmd=args[-1],
            ) from exc

    def _check(self, proc: subprocess.CompletedProcess, what: str) -> None:
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["-"]
            raise ClusterError(
                "PostgreSQL could not {what}: {detail}", "PostgreSQL 无法{what}：{detail}", what=what, detail=detail[0]
            )

    @property
    def dsn(self) -> str:
        return self.dsn_for("postgres")

    def dsn_for(self, database: str) -> str:
        from urllib.parse import quote

        return (
            f"postgresql://{self.SUPERUSER}@/{quote(database, safe='')}"
            f"?host={quote(str(self.folder), safe='/')}&port={self.port}"
        )

    def _tool(self, name: str) -> str:
        """The path of a PostgreSQL server program; ClusterError when the server is not installed."""
        if self.bin is None:
            raise ClusterError(
                "PostgreSQL is not installed. Install it with: {hint}",
                "未安装 PostgreSQL。请安装：{hint}",
                hint=INSTALL_HINT,
            )
        return str(self.bin / name)

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> PrivateCluster:
        self._tool("initdb")  # says so now when PostgreSQL is not installed
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(self.folder, pw.pw_uid, pw.pw_gid)
            # the server must reach its folder: every parent needs search permission for 'postgres'
            for parent in self.folder.resolve().parents:
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    os.chmod(parent, mode | 0o001)
        if not (self.data / "PG_VERSION").exists():
            self._check(
                self._run(
                    [
                        self._tool("initdb"),
                        "-D",
                        str(self.data),
                        "-U",
                        self.SUPERUSER,
                        "--auth=trust",
                        "-E",
                        "UTF8",
                        "--locale=C.UTF-8",
                        "--no-sync",
                    ]
                ),
                "create its cluster",
            )
        options = (
            f"-k {self.folder} -c listen_addresses='' -p {self.port} -c fsync=on "
            f"-c max_connections=100 -c shared_buffers=128MB"
        )
        self._check(
            self._run(
                [
                    self._tool("pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.folder / "server.log"),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            "start",
        )
        self._started = True
        return self

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._run([self._tool("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"])
        self._started = False

    def restart(self) -> None:
        self.stop()
        self.start()

    def create_database(self, name: str) -> str:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.dsn_for(name)

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._run([self._tool("pg_isready"), "-h", str(self.folder), "-p", str(self.port)]).returncode == 0:
                return
            time.sleep(0.2)
        raise ClusterError("PostgreSQL is not ready after {s} s.", "PostgreSQL 在 {s} 秒后仍未就绪。", s=int(timeout))

    def __enter__(self) -> PrivateCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


__all__ = ["PrivateCluster", "ClusterError", "available", "server_bin_dir"]
