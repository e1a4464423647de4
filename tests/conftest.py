"""Shared fixtures: real station homes with real users, in temporary folders."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("SCANSTATION_LANG", "zh_CN")

import pytest

import scanstation.bootstrap  # noqa: F401 (every domain's catalog migrations, as the shells load them)
from scanstation.home import Home, now_iso
from scanstation.service import Session
from scanstation.users import hash_password, row_to_user

PASSWORD = "password-123"
_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once per test run


def add_user(home: Home, name: str, roles: str):
    with home.catalog.write() as conn:
        conn.execute(
            "INSERT INTO users(name, roles, password_hash, created_at) VALUES (?, ?, ?, ?)",
            (name, roles, _HASH, now_iso()),
        )
    return row_to_user(home.catalog.one("SELECT * FROM users WHERE name = ?", (name,)))


def enable_training(home: Home) -> None:
    """Test homes are training stations: the demo scanner (the only scanner that runs everywhere) serves them.
    On a real station it is refused (tests marked ``real_station`` get such a home)."""
    home.set_setting("capture.demo_scanner", True)


_TRAINING = {"on": True}


@pytest.fixture(scope="session", autouse=True)
def training_homes_everywhere():
    """Every home a test creates (``Home.create``: the fixtures of any scope, ``scanstation init``, the fixture
    modules) has training switched on, unless the test is marked ``real_station`` (see ``training_homes``)."""
    create = Home.create.__func__

    def create_training(cls, *args, **kwargs):
        h = create(cls, *args, **kwargs)
        if _TRAINING["on"]:
            enable_training(h)
        return h

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Home, "create", classmethod(create_training))
        yield


@pytest.fixture(autouse=True)
def training_homes(request):
    """A test marked ``real_station`` creates real stations: the demo scanner is refused there."""
    _TRAINING["on"] = not request.node.get_closest_marker("real_station")
    yield
    _TRAINING["on"] = True


@pytest.fixture
def home(tmp_path):
    h = Home.create(tmp_path / "home", "X001", "S01")
    for name, roles in [
        ("admin", "admin"),
        ("clerk1", "clerk"),
        ("clerk2", "clerk"),
        ("qc1", "qc"),
        ("archivist1", "archivist"),
        ("auditor1", "auditor"),
    ]:
        add_user(h, name, roles)
    yield h
    h.close()


@pytest.fixture
def sessions(home):
    """name -> Session for each seeded user."""
    return {row["name"]: Session(home, row_to_user(row)) for row in home.catalog.query("SELECT * FROM users")}


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    """Environment for running the real CLI against a fresh home (in-process via main())."""
    monkeypatch.setenv("SCANSTATION_HOME", str(tmp_path / "clihome"))
    monkeypatch.setenv("SCANSTATION_NEW_PASSWORD", PASSWORD)
    monkeypatch.setenv("SCANSTATION_PASSWORD", PASSWORD)
    monkeypatch.delenv("SCANSTATION_USER", raising=False)
    return tmp_path / "clihome"


# PostgreSQL archive backend: one private cluster per test session (see tests/pg_support.py).
from tests.pg_support import pg_cluster, pg_dsn, s3_endpoint  # noqa: E402,F401
