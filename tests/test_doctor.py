"""``scanstation doctor`` and the permissions of a station home (R40): keys 0600, home 0700, catalog private."""

from __future__ import annotations

import json
import os
import stat

import pytest

from scanstation import doctor
from scanstation.cli.main import main
from scanstation.custody import protection

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def cheap_kdf(monkeypatch):
    monkeypatch.setattr(protection, "KDF_DEFAULTS", {**protection.KDF_DEFAULTS, "time_cost": 1, "memory_cost": 8192})


def _doctor(home, capsys, *extra):
    code = main(["--home", str(home.path), "--json", "doctor", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_r40_new_home_is_private_and_keys_are_0600(home, sessions):
    old = os.umask(0o022)  # the usual umask: files would be 0644
    try:
        protection.enable(sessions["admin"], "correct horse battery staple")
        from scanstation.transfer import keys

        keys.generate(sessions["admin"], "station", "sm2", "key-passphrase-123")
        keys.export(sessions["admin"], "station", home.path.parent / "station.pem")
        keys.trust(sessions["admin"], "other", home.path.parent / "station.pem")  # the trust list too
    finally:
        os.umask(old)
    assert _mode(home.path) == 0o700 and _mode(home.path / "keys") == 0o700
    assert _mode(protection.key_path(home)) == 0o600
    key_files = [p for p in (home.path / "keys").rglob("*") if p.is_file()]
    assert len(key_files) >= 3 and all(_mode(p) == 0o600 for p in key_files), [(p, oct(_mode(p))) for p in key_files]
    assert _mode(home.path / "catalog.sqlite") & 0o077 == 0
    result = doctor.run(home)
    assert result["ok"], [f.to_dict() for f in result["findings"] if f.status == doctor.FAIL]


@pytest.mark.parametrize(
    "target, mode, check",
    [
        ("keys/personal-data-key.json", 0o644, "key_permissions"),
        ("keys", 0o755, "key_permissions"),
        (".", 0o755, "home_permissions"),
        (".", 0o775, "home_permissions"),
        ("catalog.sqlite", 0o644, "catalog_permissions"),
    ],
)
def test_r40_doctor_fails_on_readable_keys_home_or_catalog_and_says_how_to_fix(
    home, sessions, capsys, target, mode, check
):
    protection.enable(sessions["admin"], "correct horse battery staple")
    path = home.path / target
    os.chmod(path, mode)
    code, out = _doctor(home, capsys)
    assert code == 1 and not out["ok"]
    failed = [f for f in out["findings"] if f["status"] == "fail"]
    assert [f["check"] for f in failed] == [check]
    assert "chmod" in failed[0]["fix_en"] and "修复" in failed[0]["fix_zh"] and failed[0]["fixable"]
    assert main(["--home", str(home.path), "doctor"]) == 1
    text = capsys.readouterr().out
    assert "失败" in text and "chmod" in text  # Chinese by default
    code, out = _doctor(home, capsys, "--fix")
    assert code == 0 and out["fixed"] == [str(path).rstrip("/.") if target == "." else str(path)]
    assert _mode(path) & 0o077 == 0 or (target == "." and _mode(path) & 0o027 == 0)


def test_doctor_group_read_of_the_home_is_allowed_but_never_of_keys(home, capsys):
    os.chmod(home.path, 0o750)
    assert _doctor(home, capsys)[0] == 0
    os.chmod(home.path / "keys", 0o750)
    code, out = _doctor(home, capsys)
    assert code == 1 and {f["check"] for f in out["findings"] if f["status"] == "fail"} == {"key_permissions"}


def test_doctor_unknown_check_is_a_clear_error(home, capsys):
    assert main(["--home", str(home.path), "doctor", "--check", "nosuch"]) == 1
    assert "nosuch" in capsys.readouterr().err


def test_doctor_registry_takes_new_checks_and_a_broken_check_fails_cleanly(home, monkeypatch):
    monkeypatch.setitem(doctor.CHECKS, "boom", doctor.Check("boom", "boom", "爆", lambda h: 1 / 0))
    result = doctor.run(home, ["boom"])
    assert not result["ok"] and "could not run" in result["findings"][0].en
