"""Several receiving desks on one PostgreSQL archive: real CLI processes, kill -9 at random moments, a
server restart during intake, an unavailable store. After each: no half-received batch, one audit chain,
and the next attempt succeeds."""

from __future__ import annotations

import os
import random
import signal
import time

import pytest

from scanstation.errors import ExitCode
from scanstation.home import Home
from scanstation.transfer import receive
from tests.archive_pg_fixtures import archive_state, assert_whole, desk, finish, make_packages, make_pg_archive
from tests.test_transfer_fixtures import PASSPHRASE

KILL_TRIALS = int(os.environ.get("SCANSTATION_PG_KILL_TRIALS", "10"))


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """Sealed packages shared by the tests of this module (each test receives them into a fresh archive)."""
    tmp = tmp_path_factory.mktemp("packages")
    station, pem, paths = make_packages(tmp, max(5, KILL_TRIALS // 2 + 3), dossiers_each=2, pages=2)
    yield pem, paths
    station.close()


@pytest.fixture
def archive(tmp_path, pg_dsn, packages):
    pem, _ = packages
    a = make_pg_archive(tmp_path / "arch", pg_dsn, str(tmp_path / "store"), station_pem=pem)
    a.home.close()  # the desks open it themselves; the test reads through a fresh open
    yield tmp_path / "arch"


def _state(home_path):
    with Home.open(home_path) as home:
        return archive_state(home.catalog)


def _check_whole(home_path):
    with Home.open(home_path) as home:
        assert_whole(home.catalog, home.page_store, 2, 2)
        return archive_state(home.catalog)


def test_four_desks_on_four_packages_and_two_desks_on_one_package(archive, packages):
    _, paths = packages
    procs = [desk(archive, p, user=f"archivist{1 + i % 2}") for i, p in enumerate(paths[:4])]
    twins = [desk(archive, paths[4], user="archivist1"), desk(archive, paths[4], user="archivist2")]
    results = [finish(p) for p in procs]
    for code, data, err in results:
        assert code == 0, err
        assert data["decision"] == "accepted"
    twin = [finish(p) for p in twins]
    assert sorted(code for code, _, _ in twin) == [0, ExitCode.LOCKED], twin
    loser = next(err for code, _, err in twin if code != 0)
    # the second desk is told either who is working on it, or that it was received already: never twice
    assert ("being received at desk A01@" in loser) or ("only once" in loser), loser
    assert "Traceback" not in loser
    assert _check_whole(archive) == {"packages": 5, "dossiers": 10, "pages": 20, "linked": 10}


def test_a_second_desk_is_told_who_works_on_the_package(archive, packages):
    _, paths = packages
    with Home.open(archive) as home:
        from scanstation.transfer import verify

        with verify.checked(paths[0], trust={}, content=False) as report:
            digest = report.tagmanifest_sm3
        with home.catalog.claim(digest, desk="A09@pc-7:42", station="A09", user="王芳"):
            code, _, err = finish(desk(archive, paths[0]))
        assert code != 0 and "A09@pc-7:42" in err and "王芳" in err
        assert archive_state(home.catalog)["packages"] == 0
    code, data, err = finish(desk(archive, paths[0]))  # the claim ended: it can be received now
    assert code == 0, err


def test_kill_9_at_random_moments_leaves_no_half_received_batch(archive, packages):
    """Each trial kills a desk at a random moment of its intake and checks that what the archive holds is
    whole; the next trial (or the final uninterrupted attempt) takes up the same package until it is in."""
    _, paths = packages
    seed = int(os.environ.get("SCANSTATION_PG_KILL_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    started = time.monotonic()
    code, _, err = finish(desk(archive, paths[0]))
    full = time.monotonic() - started
    assert code == 0, err
    queue = list(paths[1:])
    outcomes = []
    received = 1
    for trial in range(KILL_TRIALS):
        assert queue, f"seed {seed}: more packages needed ({outcomes})"
        proc = desk(archive, queue[0])
        delay = rng.uniform(0.1, full)
        time.sleep(delay)
        killed = proc.poll() is None
        if killed:
            os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
        state = _check_whole(archive)  # whole or absent, never half
        assert state["packages"] in (received, received + 1), f"seed {seed} trial {trial}: {state}"
        got_in = state["packages"] == received + 1
        outcomes.append((round(delay, 2), killed, got_in))
        if got_in:
            received += 1
            queue.pop(0)
    if outcomes and not outcomes[-1][2]:  # the last package was left killed: resume it
        code, _, err = finish(desk(archive, queue[0]))
        assert code == 0, f"seed {seed}: {err}"
        received += 1
    assert _check_whole(archive)["packages"] == received
    assert sum(killed and not got_in for _, killed, got_in in outcomes) >= 1, f"seed {seed}: {outcomes}"
    print(f"kill -9 trials: seed {seed}, {len(outcomes)} trials, (delay, killed, committed): {outcomes}")


def test_postgresql_restart_during_intake(archive, packages, pg_cluster):
    _, paths = packages
    import json

    import psycopg

    dsn = json.loads((archive / "archive.json").read_text())["catalog"]["dsn"]
    proc = desk(archive, paths[0])
    deadline = time.monotonic() + 60
    with psycopg.connect(dsn, autocommit=True) as conn:  # restart once the desk holds the package: mid-intake
        while time.monotonic() < deadline and proc.poll() is None:
            if conn.execute("SELECT count(*) FROM package_claims").fetchone()[0]:
                break
            time.sleep(0.05)
    pg_cluster.restart()
    code, _, err = finish(proc)
    print(f"restart during intake: desk exit {code}; {err.strip().splitlines()[-1:]}")
    assert code != 0 and "nothing was committed" in err and "Traceback" not in err, err
    _check_whole(archive)
    if code != 0:
        code, _, err = finish(desk(archive, paths[0]))
        assert code == 0, err
    assert _check_whole(archive)["packages"] == 1


def test_store_unavailable_then_back(archive, packages, tmp_path):
    _, paths = packages
    store = tmp_path / "store"
    store.rename(tmp_path / "store-unmounted")  # the NAS is not mounted
    code, _, err = finish(desk(archive, paths[0]))
    assert code != 0 and "page store" in err and "Traceback" not in err
    assert _state(archive) == {"packages": 0, "dossiers": 0, "pages": 0, "linked": 0}
    (tmp_path / "store-unmounted").rename(store)
    code, _, err = finish(desk(archive, paths[0]))
    assert code == 0, err
    assert _check_whole(archive)["packages"] == 1


def _session(home_path, user="archivist1"):
    from scanstation.service import Session
    from scanstation.users import authenticate
    from tests.test_transfer_fixtures import PASSWORD

    home = Home.open(home_path)
    return home, Session(home, authenticate(home.catalog, user, PASSWORD))


def test_postgresql_restarted_between_store_and_commit_leaves_nothing_then_resumes(
    archive, packages, pg_cluster, monkeypatch
):
    """Deterministic: the server restarts after the page files are stored and before the rows commit."""
    from scanstation.errors import StorageError
    from scanstation.storage.page_store import PosixPageStore

    _, paths = packages
    home, session = _session(archive)
    calls = []
    real_put = PosixPageStore.put_bytes

    def put_then_restart(self, data):
        out = real_put(self, data)
        if not calls:
            calls.append(1)
            pg_cluster.restart()
        return out

    monkeypatch.setattr(PosixPageStore, "put_bytes", put_then_restart)
    try:
        with pytest.raises(StorageError) as exc:
            receive.receive(session, paths[0], decision="accept", passphrase=PASSPHRASE, seed=5)
        assert "nothing was committed" in exc.value.en
        monkeypatch.setattr(PosixPageStore, "put_bytes", real_put)
        assert archive_state(home.catalog) == {"packages": 0, "dossiers": 0, "pages": 0, "linked": 0}
        stored = sum(1 for p in (archive.parent / "store" / "objects").rglob("*") if p.is_file())
        assert stored >= 4  # the page files were stored before the restart
        result = receive.receive(session, paths[0], decision="accept", passphrase=PASSPHRASE, seed=5)
        assert result["decision"] == "accepted"
        assert_whole(home.catalog, home.page_store, 2, 2)
    finally:
        home.close()


def test_receiving_into_an_s3_store(tmp_path, pg_dsn, packages, s3_endpoint):
    from tests.archive_pg_fixtures import make_pg_archive

    pem, paths = packages
    a = make_pg_archive(
        tmp_path / "arch-s3", pg_dsn, f"s3://desk-{os.getpid()}/city/2026", endpoint=s3_endpoint, station_pem=pem
    )
    try:
        result = receive.receive(a.s["archivist1"], paths[1], decision="accept", passphrase=PASSPHRASE, seed=5)
        assert result["decision"] == "accepted" and result["kept"].startswith("store:")
        assert_whole(a.home.catalog, a.home.page_store, 2, 2)
        count = a.home.catalog.one("SELECT count(*) AS n FROM store_objects")["n"]
        listed = a.home.page_store.client.list_objects_v2(Bucket=f"desk-{os.getpid()}", Prefix="city/2026/objects/")
        assert listed["KeyCount"] == count
    finally:
        a.close()


def test_store_full_during_intake_commits_nothing_and_resumes_when_extended(tmp_path, pg_dsn, packages):
    import subprocess

    from scanstation.errors import StorageError
    from tests.archive_pg_fixtures import make_pg_archive

    pem, paths = packages
    mnt = tmp_path / "nas"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=120k", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        a = make_pg_archive(tmp_path / "arch-full", pg_dsn, str(mnt), station_pem=pem)
        try:
            with pytest.raises(StorageError) as exc:
                receive.receive(a.s["archivist1"], paths[2], decision="accept", passphrase=PASSPHRASE, seed=5)
            assert "full" in exc.value.en
            assert archive_state(a.home.catalog) == {"packages": 0, "dossiers": 0, "pages": 0, "linked": 0}
            assert not list((mnt / "tmp").iterdir())
            subprocess.run(["mount", "-o", "remount,size=10m", str(mnt)], check=True)  # the NAS was extended
            result = receive.receive(a.s["archivist1"], paths[2], decision="accept", passphrase=PASSPHRASE, seed=5)
            assert result["decision"] == "accepted"
            assert_whole(a.home.catalog, a.home.page_store, 2, 2)
        finally:
            a.close()
    finally:
        subprocess.run(["umount", str(mnt)])


def test_s3_store_down_during_intake_commits_nothing_and_the_next_attempt_succeeds(tmp_path, pg_dsn, packages):
    """An S3 endpoint (moto's server, a process of its own) that goes away: a plain message, no rows."""
    import subprocess
    import sys
    import urllib.request
    from pathlib import Path

    from scanstation.errors import StorageError
    from tests.archive_pg_fixtures import make_pg_archive
    from tests.pg_support import _free_port

    pem, paths = packages
    exe = str(Path(sys.executable).with_name("moto_server"))
    if not Path(exe).exists():
        pytest.skip("moto[server] is not installed")
    port = _free_port()

    def start():
        proc = subprocess.Popen(
            [exe, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(150):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
                return proc
            except Exception:
                time.sleep(0.2)
        return proc

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    server = start()
    a = None
    try:
        a = make_pg_archive(
            tmp_path / "arch-s3", pg_dsn, "s3://intake/city", endpoint=f"http://127.0.0.1:{port}", station_pem=pem
        )
        server.kill()
        server.wait(10)
        with pytest.raises(StorageError) as exc:
            receive.receive(a.s["archivist1"], paths[3], decision="accept", passphrase=PASSPHRASE, seed=5)
        assert "not available" in exc.value.en
        assert archive_state(a.home.catalog) == {"packages": 0, "dossiers": 0, "pages": 0, "linked": 0}
        server = start()  # the endpoint is back (moto keeps nothing: the bucket is made again)
        a.home.page_store.create()
        result = receive.receive(a.s["archivist1"], paths[3], decision="accept", passphrase=PASSPHRASE, seed=5)
        assert result["decision"] == "accepted"
        assert_whole(a.home.catalog, a.home.page_store, 2, 2)
    finally:
        if a is not None:
            a.close()
        server.kill()
        server.wait(10)


def test_a_desk_started_while_another_upgrades_the_database_says_it_waits(tmp_path, pg_dsn):
    """The command line of a desk whose database another desk is upgrading: one plain sentence on
    stderr, then it waits and does its work once the upgrade is done."""
    import subprocess
    import sys

    import psycopg

    from scanstation.storage.sql_dialect import MIGRATION_LOCK
    from tests.archive_pg_fixtures import ROOT, desk_env

    make_pg_archive(tmp_path / "arch", pg_dsn, str(tmp_path / "store")).close()
    upgrading = psycopg.connect(pg_dsn, autocommit=True)
    try:
        # migration 111 pending again (its SQL may run twice), the other desk in the middle of applying it
        upgrading.execute("DELETE FROM migrations WHERE number = 111")
        upgrading.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scanstation.cli.main",
                "--home",
                str(tmp_path / "arch"),
                "--json",
                "catalog",
                "list",
            ],
            env=desk_env("archivist1"),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = proc.stderr.readline()  # blocks until the desk says something
        assert "Another desk is upgrading the archive database" in line and "Do not close it" in line
        time.sleep(0.5)
        assert proc.poll() is None  # it waits
        upgrading.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert upgrading.execute("SELECT count(*) FROM migrations WHERE number = 111").fetchone()[0] == 1
    finally:
        upgrading.close()
