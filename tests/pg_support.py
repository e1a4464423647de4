"""A private PostgreSQL cluster for the tests: one per test session, a fresh database per test.

Skips (with the install hint) only when Debian's ``postgresql`` is not installed; ``bash setup.sh test``
installs it.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import pytest

from scanstation.storage import postgres_cluster

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def pg_cluster():
    if not postgres_cluster.available():
        pytest.skip("PostgreSQL is not installed (" + postgres_cluster.INSTALL_HINT + ")")
    folder = Path(tempfile.mkdtemp(prefix="ss-pg-"))
    cluster = postgres_cluster.PrivateCluster(folder).start()
    yield cluster
    cluster.stop("fast")
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_dsn(pg_cluster):
    """A fresh, empty database in the session's cluster."""
    return pg_cluster.create_database(f"t{next(_counter)}")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's standalone S3 server, a separate process speaking the S3 HTTP API on 127.0.0.1."""
    import os
    import shutil
    import subprocess
    import sys
    import time
    import urllib.request

    exe = shutil.which("moto_server") or str(Path(sys.executable).with_name("moto_server"))
    if not Path(exe).exists():
        pytest.skip("moto[server] is not installed (pip install 'moto[server]')")
    port = _free_port()
    proc = subprocess.Popen(
        [exe, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            break
        except Exception:
            time.sleep(0.2)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    yield url
    proc.kill()
    proc.wait(10)
