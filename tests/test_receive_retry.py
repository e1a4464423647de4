"""A `receive --accept` killed half-way (kill -9 after the copies, before the commit) can be retried.

On a SQLite archive the first retry says to run reconcile, reconcile sets the copies aside, and the
next accept succeeds. On an archive on PostgreSQL nothing was committed and the page files already in
the store are taken up by their names: the first retry succeeds. Either way the archive ends the same."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from scanstation.cli.main import main
from scanstation.errors import ExitCode
from scanstation.home import Home
from scanstation.transfer import outbox
from tests.archive_pg_fixtures import backend_params, world_on
from tests.test_transfer_fixtures import PASSPHRASE, PASSWORD, archive_counts

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("backend", backend_params())
def test_crashed_accept_is_retried_after_reconcile(backend, tmp_path, monkeypatch, capsys, request):
    world = world_on(backend, tmp_path, request)
    try:
        (tmp_path / "share").mkdir()
        package = outbox.send(world.station.s["clerk1"], "X001-2024-001", tmp_path / "share")["path"]
        archive = world.archive.home.path
    finally:
        world.close()
    env = dict(
        os.environ,
        SCANSTATION_HOME=str(archive),
        SCANSTATION_USER="archivist1",
        SCANSTATION_PASSWORD=PASSWORD,
        SCANSTATION_KEY_PASSPHRASE=PASSPHRASE,
        SCANSTATION_CRASH_AT="receive.copied",
        PYTHONPATH=str(REPO),
    )
    args = ["receive", str(package), "--accept", "--key", "archive"]
    proc = subprocess.run(
        [sys.executable, "-m", "scanstation.cli.main", *args], env=env, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    for name, value in (
        ("SCANSTATION_HOME", str(archive)),
        ("SCANSTATION_PASSWORD", PASSWORD),
        ("SCANSTATION_KEY_PASSPHRASE", PASSPHRASE),
    ):
        monkeypatch.setenv(name, value)
    if backend == "sqlite":
        assert main(["--user", "archivist1", *args]) == ExitCode.REFUSED
        assert "reconcile" in capsys.readouterr().err
        assert main(["--user", "admin", "reconcile"]) == 0
    assert main(["--user", "archivist1", *args]) == 0, capsys.readouterr().err
    home = Home.open(archive)
    try:
        assert archive_counts(home) == {"dossiers": 3, "pages": 8, "accepted": 1, "image_files": 7}
    finally:
        home.close()
