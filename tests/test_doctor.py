"""``scanstation doctor`` and the permissions of a station home (R40): keys 0600, home 0700, catalog private."""

from __future__ import annotations

import json
import os
import shutil
import stat

import pytest

from scanstation import doctor
from scanstation.cli.main import main
from scanstation.custody import protection
from scanstation.errors import ExitCode
from tests.sane_fixture import sane_test_config  # noqa: F401  (fixture)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def cheap_kdf(monkeypatch):
    monkeypatch.setattr(protection, "KDF_DEFAULTS", {**protection.KDF_DEFAULTS, "time_cost": 1, "memory_cost": 8192})


def _home_checks() -> list[str]:
    """The checks of the home only (the computer's checks have tests of their own below)."""
    return [a for name, c in doctor.CHECKS.items() if c.needs_home for a in ("--check", name)]


def _doctor(home, capsys, *extra):
    code = main(["--home", str(home.path), "--json", "doctor", *_home_checks(), *extra])
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
    assert main(["--home", str(home.path), "doctor", *_home_checks()]) == ExitCode.CHECK_FAILED
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
    assert main(["--home", str(home.path), "doctor", "--check", "nosuch"]) == ExitCode.INVALID_INPUT
    assert "nosuch" in capsys.readouterr().err


def test_doctor_registry_takes_new_checks_and_a_broken_check_fails_cleanly(home, monkeypatch):
    monkeypatch.setitem(doctor.CHECKS, "boom", doctor.Check("boom", "boom", "爆", lambda h: 1 / 0))
    result = doctor.run(home, ["boom"])
    assert not result["ok"] and "could not run" in result["findings"][0].en


# -- this computer: programs, OCR languages, Python packages, scanners, fonts; the home's disk and catalog ------
def _by_object(out: dict, check: str) -> dict:
    return {f["object"]: f for f in out["findings"] if f["check"] == check}


def test_doctor_without_a_home_checks_this_computer(tmp_path, capsys, sane_test_config):
    code = main(["--home", str(tmp_path / "no-home"), "--json", "doctor"])
    out = json.loads(capsys.readouterr().out)
    assert code == ExitCode.OK and out["ok"] and out["home"] is None and "no-home" in out["without_home"]
    assert set(out["checks"]) == {"programs", "ocr_languages", "python_packages", "scanners", "fonts"}
    programs = _by_object(out, "programs")
    assert programs["tesseract"]["status"] == "ok" and programs["tesseract"]["data"]["version"].startswith("tesseract")
    assert {"fc-match", "pdftoppm", "psql", "initdb"} <= set(programs)
    assert ("clamscan" in programs) or ("clamdscan" in programs)  # optional: a warning when missing, never a failure
    languages = _by_object(out, "ocr_languages")
    assert {languages[c]["status"] for c in ("chi_sim", "eng", "osd")} == {"ok"}
    packages = _by_object(out, "python_packages")
    for name in ("PySide6-Essentials", "python-sane", "pytesseract", "Pillow", "sqlite-utils", "reportlab"):
        assert packages[name]["status"] == "ok" and packages[name]["data"]["version"], name
    assert {"zxing-cpp", "onnxruntime", "rapidocr-onnxruntime", "psycopg"} <= set(packages)
    scanners = _by_object(out, "scanners")  # the SANE test backend of the test configuration, through the devices layer
    assert any(name.startswith("sane:test:") for name in scanners), scanners
    assert any(f["data"]["pdf"] for f in _by_object(out, "fonts").values())
    main(["--home", str(tmp_path / "no-home"), "--lang", "en", "doctor", "--check", "programs"])
    text = capsys.readouterr().out
    assert "tesseract — tesseract 5" in text and "only this computer was checked" in text


def test_doctor_says_how_to_install_a_missing_program(tmp_path, capsys, monkeypatch):
    """PATH without tesseract (the others are found where they are): a failure naming the Debian package."""
    shown = tmp_path / "bin"
    shown.mkdir()
    for name in ("fc-match", "pdftoppm", "sh"):
        found = shutil.which(name)
        if found:
            (shown / name).symlink_to(found)
    monkeypatch.setenv("PATH", str(shown))
    monkeypatch.delenv("SCANSTATION_TESSERACT", raising=False)
    only = ["--check", "programs", "--check", "ocr_languages"]
    code = main(["--home", str(tmp_path / "no-home"), "--json", "doctor", *only])
    out = json.loads(capsys.readouterr().out)
    assert code == ExitCode.CHECK_FAILED and not out["ok"]
    tesseract = _by_object(out, "programs")["tesseract"]
    assert tesseract["status"] == "fail" and tesseract["fix_en"] == "Fix: sudo apt-get install tesseract-ocr"
    assert _by_object(out, "programs")["fc-match"]["status"] == "ok"
    assert _by_object(out, "ocr_languages")["tesseract"]["status"] == "fail"
    code = main(["--home", str(tmp_path / "no-home"), "doctor", *only])
    text = capsys.readouterr().out
    assert code == ExitCode.CHECK_FAILED and "apt-get install tesseract-ocr" in text and "失败" in text


def test_doctor_with_a_home_checks_disk_space_and_the_catalog(home, capsys):
    only = ["--check", "disk_space", "--check", "catalog_integrity"]
    code = main(["--home", str(home.path), "--json", "doctor", *only])
    out = json.loads(capsys.readouterr().out)
    assert code == ExitCode.OK and out["home"] == str(home.path)
    disk = _by_object(out, "disk_space")[str(home.path)]
    free = shutil.disk_usage(home.path).free  # a shared disk: other processes write meanwhile
    assert disk["status"] in ("ok", "warn") and abs(disk["data"]["free_bytes"] - free) < 2**30
    integrity = next(f for f in out["findings"] if f["check"] == "catalog_integrity")
    assert integrity["status"] == "ok" and integrity["data"] == {
        "pragma": "integrity_check",
        "bytes": (home.path / "catalog.sqlite").stat().st_size,
        "result": ["ok"],
    }


def test_doctor_finds_a_damaged_catalog(home, capsys):
    """The header of an index page overwritten on disk: the integrity check names the damage and says what to do."""
    catalog = home.path / "catalog.sqlite"
    home.catalog.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = home.catalog.conn.execute("PRAGMA page_size").fetchone()[0]
    root = home.catalog.conn.execute(
        "SELECT rootpage FROM sqlite_master WHERE type = 'index' AND rootpage > 1 ORDER BY rootpage DESC LIMIT 1"
    ).fetchone()[0]
    home.close()
    with open(catalog, "r+b") as fh:
        fh.seek((root - 1) * page_size)  # the b-tree page header: an invalid page type
        fh.write(b"\xff" * 16)
    code = main(["--home", str(home.path), "--json", "doctor", "--check", "catalog_integrity"])
    out = json.loads(capsys.readouterr().out)
    assert code == ExitCode.CHECK_FAILED and not out["ok"]
    failed = [f for f in out["findings"] if f["status"] == "fail"]
    assert [f["check"] for f in failed] == ["catalog_integrity"] and "backup restore" in failed[0]["fix_en"], failed
    assert "integrity_check" in failed[0]["en"] and "Traceback" not in failed[0]["en"]
