"""The Debian package, built for real, installed with dpkg and run from a clean environment.

Slow (the PyInstaller build takes minutes) and it installs a package on this machine, so it runs only
when asked:

    SCANSTATION_TEST_PACKAGING=1 .venv/bin/pytest tests/test_installer.py -m packaging

``SCANSTATION_TEST_PACKAGING_REUSE=1`` packs the bundle of the previous build again instead of
running PyInstaller; ``SCANSTATION_TEST_DEB=FILE`` tests a .deb built before (by a CI step, say).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.packaging,
    pytest.mark.skipif(
        os.environ.get("SCANSTATION_TEST_PACKAGING") != "1",
        reason="packaging test: set SCANSTATION_TEST_PACKAGING=1 to build and install the .deb",
    ),
]

ROOT = Path(__file__).resolve().parents[1]
PROGRAM = "/usr/bin/scanstation"
PASSWORD = "packaged-pass-1"
NUMBER = "X001-ZY·DJ·2024·Y-0001-001"  # first dossier of resources/sample-catalog.xlsx


def _version() -> str:
    from scanstation import __version__

    return __version__


@pytest.fixture(scope="session")
def deb() -> Path:
    if not shutil.which("dpkg-deb"):
        pytest.skip("dpkg-deb is not available: not a Debian system")
    given = os.environ.get("SCANSTATION_TEST_DEB")
    if given:
        return Path(given).resolve()
    cmd = [sys.executable, str(ROOT / "installer" / "build_deb.py")]
    if os.environ.get("SCANSTATION_TEST_PACKAGING_REUSE") == "1":
        cmd.append("--reuse")
    subprocess.run(cmd, cwd=ROOT, check=True, timeout=3600)
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()
    path = ROOT / "dist" / f"scanstation_{_version()}_{arch}.deb"
    assert path.is_file(), path
    return path


SMALL_FILES = (
    "/usr/share/applications/scanstation.desktop",
    *(f"/usr/share/icons/hicolor/{s}x{s}/apps/scanstation.png" for s in (48, 128, 256)),
)


@pytest.fixture(scope="session")
def deb_tree(deb) -> tuple[dict[str, tarfile.TarInfo], dict[str, bytes]]:
    """The package's file list and the content of SMALL_FILES, read in one streaming pass."""
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    members, contents = {}, {}
    with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
        for member in tar:
            name = member.name.lstrip(".")
            members[name] = member
            if name in SMALL_FILES:
                contents[name] = tar.extractfile(member).read()
    assert proc.wait() == 0
    return members, contents


@pytest.fixture(scope="session")
def installed(deb):
    if os.geteuid() != 0:
        pytest.skip("installing a package needs root")
    already = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "scanstation"], capture_output=True, text=True)
    if "install ok installed" in already.stdout:
        pytest.skip("a scanstation package is installed on this machine already; not replacing it")
    subprocess.run(["dpkg", "-i", str(deb)], check=True, capture_output=True, timeout=600)
    try:
        yield Path(PROGRAM)
    finally:
        subprocess.run(["dpkg", "-r", "scanstation"], check=True, capture_output=True, timeout=600)


def clean_env(home: Path, lang: str = "C.UTF-8", **extra) -> dict:
    """What `env -i PATH=... HOME=... LANG=...` leaves: no virtualenv, no PYTHONPATH, no SCANSTATION_*."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": lang}
    env.update(extra)
    return env


def run_installed(args, home: Path, timeout=600, **extra) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PROGRAM, *args], env=clean_env(home, **extra), cwd=home, capture_output=True, text=True, timeout=timeout
    )


# ---- the package as built -------------------------------------------------------------------------


def test_control_file_names_version_architecture_and_runtime_dependencies(deb):
    info = subprocess.run(["dpkg-deb", "-I", str(deb)], capture_output=True, text=True, check=True).stdout
    fields = {}
    for line in info.splitlines():
        key, sep, value = line.strip().partition(":")
        if sep and key and " " not in key:
            fields.setdefault(key, value.strip())
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()
    assert fields["Package"] == "scanstation"
    assert fields["Version"] == _version()
    assert fields["Architecture"] == arch
    assert int(fields["Installed-Size"]) > 50_000  # KiB: the bundle, not an empty tree
    depends = [d.strip() for d in fields["Depends"].split(",")]
    for required in (
        "libsane1",
        "tesseract-ocr",
        "tesseract-ocr-chi-sim",
        "tesseract-ocr-osd",
        "fonts-wqy-zenhei | fonts-noto-cjk",
        "libegl1",
        "libgl1",
        "libxkbcommon0",
        "libxkbcommon-x11-0",
        "libxcb-cursor0",
        "libfontconfig1",
        "libdbus-1-3",
    ):
        assert required in depends, f"{required} missing from Depends: {depends}"
    assert any(d.startswith("libc6 (>= 2.") for d in depends), depends
    # Every Depends entry names a package this machine knows (no typo that would make the .deb uninstallable).
    for dep in depends:
        names = [alt.split("(")[0].strip() for alt in dep.split("|")]
        known = [subprocess.run(["dpkg-query", "-W", n], capture_output=True).returncode == 0 for n in names]
        assert any(known), f"no installed package provides {dep}"


def test_package_tree_has_program_menu_entry_icons_and_resources(deb_tree):
    files = deb_tree[0]
    link = files["/usr/bin/scanstation"]
    assert link.issym() and link.linkname == "/opt/scanstation/scanstation"
    program = files["/opt/scanstation/scanstation"]
    assert program.isfile() and program.mode & 0o111
    assert files["/opt/scanstation/scanstation"].uname == "root"  # --root-owner-group
    for size in (48, 128, 256):
        assert files[f"/usr/share/icons/hicolor/{size}x{size}/apps/scanstation.png"].isfile()
    assert files["/usr/share/icons/hicolor/scalable/apps/scanstation.svg"].isfile()
    for name in ("i18n/scanstation_zh_CN.qm", "i18n/scanstation_en.qm", "icons/app.svg", "sample-catalog.xlsx"):
        assert f"/opt/scanstation/_internal/resources/{name}" in files, name
    names = list(files)
    assert not [n for n in names if n.endswith(".ts")], "translation sources do not belong in the bundle"
    assert not [n for n in names if "/tkinter/" in n or "/_pytest/" in n or "/hypothesis/" in n]
    # SANE comes from the system (libsane1) so that libsane and its backends match.
    assert not [n for n in names if Path(n).name.startswith("libsane.so")]


def test_desktop_entry_and_icon_sizes(deb_tree, tmp_path):
    contents = deb_tree[1]
    desktop = contents["/usr/share/applications/scanstation.desktop"].decode("utf-8")
    entries = dict(line.split("=", 1) for line in desktop.splitlines() if "=" in line)
    assert entries["Name"] == "ScanStation"
    assert entries["Name[zh_CN]"] == "社保档案扫描工作站"
    assert entries["Exec"] == "scanstation" and entries["Icon"] == "scanstation"
    assert entries["Categories"] == "Office;Scanning;"
    if shutil.which("desktop-file-validate"):
        path = tmp_path / "scanstation.desktop"
        path.write_text(desktop, encoding="utf-8")
        check = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
    from PIL import Image

    for size in (48, 128, 256):
        png = contents[f"/usr/share/icons/hicolor/{size}x{size}/apps/scanstation.png"]
        with Image.open(io.BytesIO(png)) as image:
            assert image.size == (size, size) and image.mode == "RGBA"
            assert image.getchannel("A").getextrema() == (0, 255)  # drawn, with a transparent surround


# ---- the installed program, from a clean environment ----------------------------------------------


def test_installed_program_reports_its_version(installed, tmp_path):
    proc = run_installed(["--version"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"ScanStation {_version()}"


def test_installed_program_has_every_command_of_the_source_tree(installed, tmp_path):
    # The command groups are found with pkgutil at run time: a frozen build that missed a cmd_ module
    # would silently lose its commands.
    from scanstation.cli.main import build_parser
    from scanstation.i18n import set_language

    set_language("en")
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    expected = sorted(sub.choices)
    proc = run_installed(["--lang", "en", "--help"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    listed = re.findall(r"^    ([a-z][\w-]*)(?:\s{2,}|$)", proc.stdout, re.M)
    assert sorted(listed) == expected
    assert "ScanStation" in proc.stdout
    zh = run_installed(["--help"], tmp_path, lang="zh_CN.UTF-8")
    assert "社保档案扫描工作站" in zh.stdout


def test_installed_program_scans_a_dossier_with_the_demo_scanner(installed, tmp_path):
    """A clerk's first dossier through the packaged program: the bundled sample catalog, a scan with
    the demo scanner (page processing in spawned worker processes of the frozen program), the audit chain."""
    home = tmp_path / "station"
    env = {"SCANSTATION_HOME": str(home), "SCANSTATION_NEW_PASSWORD": PASSWORD, "SCANSTATION_PASSWORD": PASSWORD}
    steps = [
        ["init", "--fonds", "X001", "--station", "S01", "--admin", "admin"],
        ["--user", "admin", "user", "add", "zhang", "--role", "clerk"],
        ["--user", "admin", "training", "on"],  # the demo scanner serves a station in training only
        ["--user", "zhang", "catalog", "import", "/opt/scanstation/_internal/resources/sample-catalog.xlsx"],
        ["--user", "zhang", "scan", NUMBER, "--device", "demo", "--pages", "3"],
    ]
    for args in steps:
        proc = run_installed(args, tmp_path, **env)
        assert proc.returncode == 0, f"{args}: {proc.stdout}\n{proc.stderr}"
        assert "Traceback" not in proc.stderr
    pages = run_installed(["--user", "zhang", "--json", "pages", NUMBER], tmp_path, **env)
    assert pages.returncode == 0, pages.stderr
    listed = json.loads(pages.stdout)
    assert [p["file_name"] for p in listed] == [f"{NUMBER}-{n:04d}.jpg" for n in (1, 2, 3)]
    for page in listed:
        assert any((home / "images").rglob(page["file_name"])), page["file_name"]
    verify = run_installed(["audit", "verify"], tmp_path, **env)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_installed_program_reads_scanned_pages_with_the_system_tesseract(installed, tmp_path):
    home = tmp_path / "station"
    env = {"SCANSTATION_HOME": str(home), "SCANSTATION_NEW_PASSWORD": PASSWORD, "SCANSTATION_PASSWORD": PASSWORD}
    for args in (
        ["init", "--fonds", "X001", "--station", "S01", "--admin", "admin"],
        ["--user", "admin", "user", "add", "zhang", "--role", "clerk"],
        ["--user", "admin", "training", "on"],
        ["--user", "zhang", "catalog", "import", "/opt/scanstation/_internal/resources/sample-catalog.xlsx"],
        ["--user", "zhang", "scan", NUMBER, "--device", "demo", "--pages", "1"],
        ["--user", "zhang", "ocr", "--wait", "--workers", "1"],
    ):
        proc = run_installed(args, tmp_path, **env)
        assert proc.returncode == 0, f"{args}: {proc.stdout}\n{proc.stderr}"
    # Every demo page carries the agency's name (…社会保险事业管理中心): a hit on page 1 comes from its OCR text.
    hits = run_installed(["--user", "zhang", "--json", "search", "社会保险"], tmp_path, **env)
    assert hits.returncode == 0, hits.stdout + hits.stderr
    assert any(h["number"] == NUMBER and h["page"] == 1 for h in json.loads(hits.stdout)), hits.stdout


def test_installed_demo_command_builds_a_demo_station(installed, tmp_path):
    home = tmp_path / "demo-home"
    proc = run_installed(["demo", "--home", str(home), "--json"], tmp_path, timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    result = json.loads(proc.stdout)
    assert result["ok"] is True, result
    for key in ("station_home", "archive_home"):  # the demo makes a station and an archive room
        folder = Path(result[key])
        assert (folder / "station.json").is_file() and (folder / "catalog.sqlite").is_file(), key
        verify = run_installed(["--home", str(folder), "audit", "verify"], tmp_path)
        assert verify.returncode == 0, verify.stdout + verify.stderr


def test_installed_window_starts_on_an_x_server(installed, tmp_path):
    """The window through the X11 (xcb) plugin with the system's libraries the package depends on:
    it must still be running (first-start dialog) after a few seconds, not crash at start."""
    if not shutil.which("xvfb-run"):
        pytest.skip("xvfb-run is not installed")
    env = clean_env(tmp_path, lang="zh_CN.UTF-8")
    proc = subprocess.Popen(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", PROGRAM, "--home", str(tmp_path / "new-station")],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        time.sleep(12)
        alive = proc.poll() is None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert alive, f"the window exited early ({proc.returncode}): {out}\n{err}"
    assert "Could not load the Qt platform plugin" not in err
    assert "Traceback" not in err, err
