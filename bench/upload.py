"""Upload benchmark: ``batch send`` over HTTPS against a local copy of the same package.

    .venv/bin/python bench/upload.py [--quick] [--package-mb N] [--rounds N] [--stations N] [--chunk-mb N]

An archive home is made and ``scanstation archive serve`` runs as its own process on 127.0.0.1 with
TLS, as in production (a self-signed certificate made with ``cryptography``, which the station
trusts with ``ca_file`` like ``--ca-file``). Each of ``--stations`` (1) stations uploads a package of
``--package-mb`` (256; ``--quick``: 64) through the same chunked, SM3-checked client as
``scanstation batch send`` (``https_delivery.upload_file``). The package is a synthetic zip, new
each round (8 bytes changed in place: a new SM3); the upload is timed until the archive holds every
byte, synced, with the chain of chunk digests compared (``complete``). The archive's four-property
check of the whole package then runs before the next round, outside the timing (it fails early on
the synthetic zip; bench/transfer.py times the check of real packages).

The peer, measured in the same run: a local disk-to-disk copy of the same file (read, write, fsync)
onto the disk of the archive's home. Rounds are interleaved (upload then copy, then copy then upload,
alternately); ratio per round = aggregate upload throughput / copy throughput; the median is reported.

Also per round, because a loaded machine makes wall-clock figures noisy: the CPU time the service, the
station and the copy spent per MB (load changes it far less), and one SM3 pass over the package on one core.
Both sides must SM3 every byte, so on two cores the upload cannot be faster than that single-core
pass: ``ceiling`` = SM3 pass / copy is the best ratio any chunking could reach in that round.

Prints ONE JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed(folder: Path) -> tuple[Path, Path]:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "archive.bench")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def make_home(path: Path, stations: int) -> None:
    import scanstation.bootstrap  # noqa: F401 (every domain's catalog migrations)
    from scanstation.home import Home
    from scanstation.service import init_home
    from scanstation.users import hash_password

    init_home(path, "X001", "A01", "admin", PASSWORD, kind="archive").close()
    home = Home.open(path)
    hashed = hash_password(PASSWORD)
    with home.catalog.write() as conn:
        conn.executemany(
            "INSERT INTO users(name, roles, password_hash, created_at) VALUES (?, 'clerk', ?, ?)",
            [(f"station{i}", hashed, "2025-01-01T00:00:00+08:00") for i in range(stations)],
        )
    home.close()


def make_package(path: Path, mb: int, rng: random.Random) -> None:
    import zipfile

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        with zf.open("package/data/payload.bin", "w", force_zip64=True) as out:
            block = rng.randbytes(1 << 20)
            for _ in range(mb):
                out.write(block)


def stamp_nonce(path: Path, nonce: int) -> None:
    with open(path, "r+b") as fh:
        fh.seek(200)
        fh.write(nonce.to_bytes(8, "little"))


def disk_copy(src: Path, dst: Path) -> float:
    started = time.perf_counter()
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        shutil.copyfileobj(fi, fo, 8 << 20)
        fo.flush()
        os.fsync(fo.fileno())
    return time.perf_counter() - started


def sm3_pass(path: Path) -> float:
    """One SM3 pass over the file on one core (hashlib: OpenSSL's SM3, the one both sides use)."""
    import hashlib

    started = time.perf_counter()
    digest = hashlib.new("sm3")
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(8 << 20), b""):
            digest.update(block)
    return time.perf_counter() - started


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of a process: this one, or another by its id."""
    if pid is None:
        import resource

        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="64 MB packages, 3 rounds")
    parser.add_argument("--package-mb", type=int)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--stations", type=int, default=1)
    parser.add_argument("--chunk-mb", type=int, default=0, help="chunk size (default: the client's own)")
    parser.add_argument("--window", type=int, default=0, help="chunks on their way at once (default: the client's)")
    parser.add_argument("--dir", help="work folder (default: a temporary one)")
    args = parser.parse_args()
    package_mb = args.package_mb or (64 if args.quick else 256)
    rounds_n = args.rounds or (3 if args.quick else 7)
    work = Path(tempfile.mkdtemp(prefix="bench-upload-", dir=args.dir))
    server = None
    try:
        from scanstation.transfer import https_delivery

        home = work / "archive"
        make_home(home, args.stations)
        cert, key = self_signed(work)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "scanstation.cli.main", "--home", str(home), "archive", "serve"]
            + ["--bind", f"127.0.0.1:{port}", "--tls-cert", str(cert), "--tls-key", str(key)],
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            stdout=subprocess.DEVNULL,
            stderr=open(work / "serve.log", "wb"),
        )
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        rng = random.Random(11)
        packages = []
        for s in range(args.stations):
            packages.append(work / f"station{s}.zip")
            make_package(packages[-1], package_mb, rng)
        clients = [
            https_delivery.Client(f"https://127.0.0.1:{port}", f"station{i}", PASSWORD, ca_file=str(cert))
            for i in range(args.stations)
        ]
        for c in clients:
            c.login()
        chunk = {"chunk_size": args.chunk_mb << 20} if args.chunk_mb else {}
        if args.window:
            chunk["window"] = args.window

        def upload_round() -> tuple[float, list[str]]:
            results = [None] * len(clients)

            def run(i):
                upload_id = os.urandom(32).hex()  # a station names it by its tag manifest's SM3
                results[i] = https_delivery.upload_file(
                    clients[i], packages[i], upload_id, f"BENCH-{i}", check_wait=0, **chunk
                )[0]["state"]

            started = time.perf_counter()
            threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return time.perf_counter() - started, results

        def settle() -> None:
            """Wait (untimed) until the archive's checks of the last round are done."""
            import sqlite3

            for _ in range(600):
                conn = sqlite3.connect(f"file:{home / 'catalog.sqlite'}?mode=ro", uri=True)
                try:
                    busy = conn.execute("SELECT count(*) FROM package_uploads WHERE state = 'checking'").fetchone()[0]
                finally:
                    conn.close()
                if not busy:
                    break
                time.sleep(0.1)
            for f in (home / "inbox" / "uploads").glob("*.zip"):
                f.unlink()

        total = sum(p.stat().st_size for p in packages)
        rounds = []
        for r in range(rounds_n):
            for p in packages:
                stamp_nonce(p, r + 1)
            copy_first = r % 2 == 1
            copy_cpu = cpu_seconds()
            if copy_first:
                copy_s = disk_copy(packages[0], home / "copy.bin")
                copy_cpu = cpu_seconds() - copy_cpu
            server_cpu, client_cpu = cpu_seconds(server.pid), cpu_seconds()
            upload_s, states = upload_round()
            server_cpu, client_cpu = cpu_seconds(server.pid) - server_cpu, cpu_seconds() - client_cpu
            if not copy_first:
                copy_cpu = cpu_seconds()
                copy_s = disk_copy(packages[0], home / "copy.bin")
                copy_cpu = cpu_seconds() - copy_cpu
            (home / "copy.bin").unlink()
            hash_s = sm3_pass(packages[0])
            settle()
            upload_mbs = total / upload_s / 1e6
            copy_mbs = packages[0].stat().st_size / copy_s / 1e6
            sm3_mbs = packages[0].stat().st_size / hash_s / 1e6
            rounds.append(
                {
                    "upload_MBps": round(upload_mbs, 1),
                    "copy_MBps": round(copy_mbs, 1),
                    "sm3_MBps": round(sm3_mbs, 1),
                    "ratio": round(upload_mbs / copy_mbs, 3),
                    "ceiling": round(sm3_mbs / copy_mbs, 3),
                    "server_cpu_ms_per_MB": round(server_cpu * 1000 / (total / 1e6), 2),
                    "station_cpu_ms_per_MB": round(client_cpu * 1000 / (total / 1e6), 2),
                    "copy_cpu_ms_per_MB": round(copy_cpu * 1000 / (packages[0].stat().st_size / 1e6), 2),
                    "states": states,
                }
            )
        for c in clients:
            c.close()
        ratios = [r["ratio"] for r in rounds]
        result = {
            "bench": "upload",
            "quick": args.quick,
            "tls": True,
            "stations": args.stations,
            "package_MB": package_mb,
            "chunk_MB": (args.chunk_mb or https_delivery.DEFAULT_CHUNK >> 20),
            "window": args.window or https_delivery.WINDOW,
            "rounds": len(rounds),
            "upload_MBps_median": statistics.median(r["upload_MBps"] for r in rounds),
            "copy_MBps_median": statistics.median(r["copy_MBps"] for r in rounds),
            "sm3_MBps_median": statistics.median(r["sm3_MBps"] for r in rounds),
            "ratio_per_round": ratios,
            "ratio_median": statistics.median(ratios),
            "ceiling_per_round": [r["ceiling"] for r in rounds],
            "server_cpu_ms_per_MB": statistics.median(r["server_cpu_ms_per_MB"] for r in rounds),
            "station_cpu_ms_per_MB": statistics.median(r["station_cpu_ms_per_MB"] for r in rounds),
            "copy_cpu_ms_per_MB": statistics.median(r["copy_cpu_ms_per_MB"] for r in rounds),
            "states": sorted({s for r in rounds for s in r["states"]}),
            "pass": {"upload_ge_50pct_copy": statistics.median(ratios) >= 0.5},
            "cores": os.cpu_count(),
            "load_before": round(os.getloadavg()[0], 2),
            # said only when it was so: a load above the core count means other work shared the cores
            "machine_busy": os.getloadavg()[0] > (os.cpu_count() or 1),
        }
        print(json.dumps(result, ensure_ascii=False))
        return 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
