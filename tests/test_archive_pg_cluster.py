"""The private PostgreSQL cluster used by tests, benchmarks and the demo."""

from __future__ import annotations

import os

import psycopg
import pytest

from scanstation.storage import postgres_cluster
from scanstation.storage.postgres_cluster import ClusterError, PrivateCluster


def test_cluster_runs_on_a_unix_socket_in_its_folder_and_survives_a_restart(tmp_path):
    if not postgres_cluster.available():
        pytest.skip("PostgreSQL is not installed")
    cluster = PrivateCluster(tmp_path / "pg").start()
    try:
        assert (tmp_path / "pg" / ".s.PGSQL.5432").exists()  # the socket lives in the folder
        dsn = cluster.create_database("t_restart")
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (v text)")
            conn.execute("INSERT INTO t VALUES ('kept')")
            assert conn.execute("SHOW listen_addresses").fetchone()[0] == ""  # no TCP port
        cluster.restart()
        cluster.wait_ready()
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT v FROM t").fetchone()[0] == "kept"
        if os.geteuid() == 0:  # PostgreSQL refuses root: the server runs as the 'postgres' user
            with psycopg.connect(dsn) as conn:  # looked at while connected: the backend ends with its connection
                pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
                assert os.stat(f"/proc/{pid}").st_uid != 0
    finally:
        cluster.stop()
    assert not (tmp_path / "pg" / "data" / "postmaster.pid").exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(dsn, connect_timeout=2)


def test_database_names_are_quoted(pg_cluster):
    dsn = pg_cluster.create_database('odd"name; x')
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == 'odd"name; x'


def test_missing_server_gives_the_install_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("SCANSTATION_PG_BIN", str(tmp_path / "nowhere"))
    assert not postgres_cluster.available()
    with pytest.raises(ClusterError) as exc:
        PrivateCluster(tmp_path / "pg").start()
    assert "apt-get install" in str(exc.value)
    assert not (tmp_path / "pg").exists()


def test_a_failed_start_says_why(tmp_path):
    if not postgres_cluster.available():
        pytest.skip("PostgreSQL is not installed")
    cluster = PrivateCluster(tmp_path / "pg").start()
    try:
        second = PrivateCluster(tmp_path / "pg")  # same data folder: the postmaster is already running
        with pytest.raises(ClusterError) as exc:
            second.start()
        assert "PostgreSQL" in str(exc.value)
    finally:
        cluster.stop()
