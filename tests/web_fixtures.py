"""Shared builders for the network-service tests: a real archive home with archived dossiers, OCR text
and page images, users of every role, and the service run as its own process (``scanstation archive
serve``) on 127.0.0.1 with a random port, so that stopping and restarting it is real."""

from __future__ import annotations

import datetime
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from scanstation import search
from scanstation.home import now_iso
from tests.test_transfer_fixtures import (
    PASSPHRASE,
    PASSWORD,
    Station,
    add_dossier,
    add_user,
    make_archive,
    make_station,
    sealed_batch,
    station_key,
)

ROOT = Path(__file__).resolve().parent.parent
ROLE_USERS = {"clerk": "clerk9", "qc": "qc9", "archivist": "arch9", "admin": "admin9", "auditor": "aud9"}
ID_NUMBER = "31010419761017344X"
SCRIPT_TEXT = "<script>alert('x')</script> 养老保险 参保人员登记"
ARCHIVE_NUMBERS = ["X001-ZY·DJ·2023·D100-0001-001", "X001-ZY·DJ·2023·D100-0001-002", "X001-ZY·JF·2022·D30-0002-001"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def populate_archive(archive: Station) -> dict[str, int]:
    """Archived dossiers with pages and OCR text (one page's text is a <script> tag), indexed for search."""
    home = archive.home
    for role, name in ROLE_USERS.items():
        archive.s[name] = add_user(home, name, role)
    archive.s["station01"] = add_user(home, "station01", "clerk")
    ids = {}
    texts = [SCRIPT_TEXT, f"社会保险 档案 王芳 身份证 {ID_NUMBER} 缴费", "基金征缴 单位 缴费 明细 档案"]
    for i, number in enumerate(ARCHIVE_NUMBERS):
        dossier_id = add_dossier(
            home,
            number,
            2,
            status="archived",
            year=int(number.split("·")[2]),
            seed=50 + i,
            category=number.split("-")[1].rsplit("·", 2)[0],
        )
        ids[number] = dossier_id
        with home.catalog.write() as conn:
            if i == 2:
                conn.execute(
                    "UPDATE dossiers SET insurance_type = '失业保险', business_stage = '基金征缴',"
                    " responsible = 'XX市就业服务中心' WHERE id = ?",
                    (dossier_id,),
                )
            for (page_id,) in conn.execute("SELECT id FROM pages WHERE dossier_id = ?", (dossier_id,)).fetchall():
                conn.execute(
                    "INSERT OR REPLACE INTO page_text(page_id, status, text, updated_at) VALUES (?, 'done', ?, ?)",
                    (page_id, texts[i], now_iso()),
                )
                search.index_page_text(conn, page_id)
            search.index_dossier(conn, dossier_id)
    return ids


def archive_world(tmp: Path) -> dict:
    """A station with a sealed batch and an archive (closed again: the service opens it)."""
    station = make_station(tmp / "station")
    archive = make_archive(tmp / "archive")
    ids = populate_archive(archive)
    from scanstation.transfer import keys

    station_pem = station_key(station, tmp)
    archive_pem = station_key(archive, tmp, "sm2", name="archive")
    keys.trust(archive.s["admin"], "S01", station_pem)
    keys.trust(station.s["admin"], "archive", archive_pem)
    sealed = sealed_batch(station)
    archive.close()
    return {"station": station, "archive_path": tmp / "archive", "ids": ids, "sealed": sealed, "tmp": tmp}


class Server:
    """``scanstation archive serve`` in its own process."""

    def __init__(
        self, home: Path, *, tls: tuple[Path, Path] | None = None, port: int | None = None, log: Path | None = None
    ):
        self.home, self.tls = home, tls
        self.port = port or free_port()
        self.log = log or home.parent / f"serve-{self.port}.log"
        self.proc = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> Server:
        cmd = [
            sys.executable,
            "-m",
            "scanstation.cli.main",
            "--home",
            str(self.home),
            "archive",
            "serve",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            "16",
        ]
        if self.tls:
            cmd += ["--tls-cert", str(self.tls[0]), "--tls-key", str(self.tls[1])]
        env = dict(os.environ, PYTHONPATH=str(ROOT), SCANSTATION_LANG="zh_CN")
        self.proc = subprocess.Popen(cmd, env=env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}: {self.log.read_text(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start: " + self.log.read_text(errors="replace"))

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            if kill:
                self.proc.kill()
            else:
                self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def browser_login(client: httpx.Client, user: str, password: str = PASSWORD) -> httpx.Response:
    client.get("/login")  # sets the login cookie the form posts back
    token = client.cookies.get("ss_login")
    return client.post("/login", data={"user": user, "password": password, "login_token": token, "next": "/search"})


def csrf_of(client: httpx.Client) -> str:
    import re

    html = client.get("/search").text
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    return match.group(1) if match else ""


def self_signed(tmp: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 made with ``cryptography``."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "archive.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


__all__ = [
    "ARCHIVE_NUMBERS",
    "ID_NUMBER",
    "PASSPHRASE",
    "PASSWORD",
    "ROLE_USERS",
    "SCRIPT_TEXT",
    "Server",
    "archive_world",
    "browser_login",
    "csrf_of",
    "free_port",
    "populate_archive",
    "self_signed",
]
