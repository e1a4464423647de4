"""Build the Debian package (Debian 12, UOS, Kylin): one command, output in dist/.

    python installer/build_deb.py              # PyInstaller bundle + .deb
    python installer/build_deb.py --reuse      # pack the bundle built last time again (no PyInstaller run)

Steps: compile the translations if a .ts is newer than its .qm; run PyInstaller with
installer/scanstation.spec (installing PyInstaller into this Python's environment if it is missing);
lay out /opt/scanstation (the one-folder bundle), /usr/bin/scanstation, the .desktop entry and the icons
rendered from resources/icons/app.svg; work out the system libraries the bundle links to and which
packages own them; write DEBIAN/control; pack with ``dpkg-deb --build --root-owner-group``.

Needs dpkg-deb and readelf (binutils), both present wherever PyInstaller runs on Debian.
SANE, tesseract with its Chinese data and a CJK font are dependencies of the package, not bundled.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "installer"))

PACKAGE = "scanstation"
SPEC = ROOT / "installer" / "scanstation.spec"
WORK = ROOT / "build" / "installer"
BUNDLE = WORK / "dist" / PACKAGE
DIST = ROOT / "dist"
INSTALL_DIR = f"/opt/{PACKAGE}"
ICON_SIZES = (48, 128, 256)          # hicolor sizes; the SVG goes to scalable/
MAINTAINER = os.environ.get("SCANSTATION_DEB_MAINTAINER", "ScanStation <scanstation@localhost>")

# Programs and data the station uses at run time that are not shared libraries of the bundle.
RUNTIME_DEPENDS = [
    "libsane1",                                   # scanners (the bundle uses the system's SANE)
    "tesseract-ocr", "tesseract-ocr-chi-sim", "tesseract-ocr-eng", "tesseract-ocr-osd",  # offline OCR
    # PDF reports embed a TrueType CJK font (WenQuanYi Zen Hei); Noto CJK (CFF) shows Chinese in the window,
    # and a report then tells the user to install fonts-wqy-zenhei.
    "fonts-wqy-zenhei | fonts-noto-cjk",
]
# Libraries Qt loads at run time (dlopen) or that its X11/Wayland plugins need and PyInstaller leaves to
# the system; listed by name because no ELF header names them all.
QT_RUNTIME_DEPENDS = [
    "libegl1", "libgl1", "libfontconfig1", "libdbus-1-3", "libxkbcommon0", "libxkbcommon-x11-0",
    "libxcb-cursor0", "libx11-xcb1",
]
RECOMMENDS = ["fonts-noto-cjk", "sane-utils"]

DESKTOP_ENTRY = """[Desktop Entry]
Type=Application
Version=1.0
Name=ScanStation
Name[zh_CN]=社保档案扫描工作站
GenericName=Archive scanning station
GenericName[zh_CN]=档案扫描工作站
Comment=Scan social-security dossiers by archival number, check them and hand them over
Comment[zh_CN]=按档号扫描社保业务档案，质检并移交档案室
Exec=scanstation
Icon=scanstation
Terminal=false
Categories=Office;Scanning;
Keywords=scan;archive;OCR;档案;扫描;档号;
StartupNotify=true
"""

COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: ScanStation

Files: *
License: Apache-2.0
 On Debian systems the full text of the Apache License 2.0 is in
 /usr/share/common-licenses/Apache-2.0.
Comment: /opt/scanstation/_internal holds Python, Qt (LGPL-3.0, PySide6) and the other libraries the
 program is built with, each under its own licence; their licence files are kept in their
 *.dist-info folders there.
"""


def say(text: str) -> None:
    print(f"[build_deb] {text}", flush=True)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kwargs)


def require_tools() -> None:
    missing = [tool for tool in ("dpkg-deb", "dpkg", "readelf", "ldconfig") if not shutil.which(tool)
               and not Path("/sbin", tool).exists()]
    if missing:
        raise SystemExit(f"missing tools: {', '.join(missing)} (apt-get install dpkg binutils libc-bin)")


def ensure_pyinstaller() -> None:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        say("PyInstaller is not installed: installing it with pip (packaging dependency)")
        run([sys.executable, "-m", "pip", "install", "-q", "pyinstaller>=6"])


def ensure_translations() -> None:
    """The .qm files are generated: rebuild them when a .ts is newer or a .qm is missing."""
    i18n = ROOT / "resources" / "i18n"
    stale = [ts for ts in i18n.glob("*.ts")
             if not ts.with_suffix(".qm").exists() or ts.stat().st_mtime > ts.with_suffix(".qm").stat().st_mtime]
    if stale:
        say(f"compiling translations ({', '.join(t.name for t in stale)} changed)")
        run([sys.executable, "-m", "scanstation.ui.build_translations"], cwd=ROOT)


def build_bundle() -> None:
    say("running PyInstaller (a few minutes)")
    run([sys.executable, "-m", "PyInstaller", str(SPEC), "--noconfirm", "--log-level", "WARN",
         "--distpath", str(WORK / "dist"), "--workpath", str(WORK / "work")], cwd=ROOT)
    if not (BUNDLE / PACKAGE).is_file():
        raise SystemExit(f"PyInstaller did not produce {BUNDLE / PACKAGE}")


def version() -> str:
    from scanstation import __version__
    return __version__


def architecture() -> str:
    return run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()


# ---- system libraries the bundle links to -------------------------------------------------------

def elf_files(folder: Path) -> list[Path]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as fh:
                if fh.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def elf_needs(path: Path) -> tuple[set[str], set[str]]:
    """(NEEDED sonames, GLIBC_x.y symbol versions) of one ELF file."""
    out = run(["readelf", "--wide", "--dynamic", "--version-info", str(path)],
              capture_output=True, text=True).stdout
    return set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)), set(re.findall(r"GLIBC_(\d+(?:\.\d+)+)", out))


def system_library_paths() -> dict[str, list[str]]:
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    out = run([ldconfig, "-p"], capture_output=True, text=True).stdout
    paths: dict[str, list[str]] = {}
    for name, path in re.findall(r"^\s*(\S+) \([^)]*\) => (\S+)$", out, re.M):
        paths.setdefault(name, []).append(path)
    return paths


def elf_machine(path: Path) -> bytes:
    with open(path, "rb") as fh:
        header = fh.read(20)
    return header[4:5] + header[18:20]       # class (32/64 bit) and machine


def owning_package(path: str) -> str | None:
    real = os.path.realpath(path)
    tries = {path, real}
    for p in list(tries):                    # merged /usr: dpkg may know either spelling
        tries.add(p[4:] if p.startswith("/usr/") else "/usr" + p)
    for p in tries:
        proc = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if proc.returncode == 0 and proc.stdout:
            return proc.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def library_depends(bundle: Path) -> tuple[list[str], list[str]]:
    """Debian packages that provide the system libraries the bundle needs, with the lowest glibc it
    needs; and the sonames that nothing on this machine provides (plugins that cannot load)."""
    files = elf_files(bundle)
    inside = {p.name for p in bundle.rglob("*")}
    needed, glibc = set(), set()
    for path in files:
        names, versions = elf_needs(path)
        needed |= names
        glibc |= versions
    machine = elf_machine(bundle / PACKAGE)
    system = system_library_paths()
    packages, unresolved = set(), []
    for soname in sorted(needed - inside):
        candidates = [p for p in system.get(soname, []) if os.path.exists(p) and elf_machine(Path(p)) == machine]
        owner = owning_package(candidates[0]) if candidates else None
        if owner:
            packages.add(owner)
        else:
            unresolved.append(soname)
    depends = []
    newest = max(glibc, key=lambda v: tuple(map(int, v.split("."))), default=None)
    for package in sorted(packages):
        depends.append(f"{package} (>= {newest})" if package == "libc6" and newest else package)
    return depends, unresolved


# ---- package tree ---------------------------------------------------------------------------------

def lay_out(stage: Path, bundle: Path) -> None:
    if stage.exists():
        shutil.rmtree(stage)
    opt = stage / INSTALL_DIR.lstrip("/")
    shutil.copytree(bundle, opt, symlinks=True)
    usr_bin = stage / "usr" / "bin"
    usr_bin.mkdir(parents=True)
    # The bundle's launcher finds its _internal folder through /proc/self/exe, so a symlink is enough.
    (usr_bin / PACKAGE).symlink_to(f"{INSTALL_DIR}/{PACKAGE}")

    applications = stage / "usr" / "share" / "applications"
    applications.mkdir(parents=True)
    (applications / f"{PACKAGE}.desktop").write_text(DESKTOP_ENTRY, encoding="utf-8")

    import app_icon
    pngs = app_icon.render_pngs(WORK / "icon")
    hicolor = stage / "usr" / "share" / "icons" / "hicolor"
    for size in ICON_SIZES:
        target = hicolor / f"{size}x{size}" / "apps" / f"{PACKAGE}.png"
        target.parent.mkdir(parents=True)
        shutil.copyfile(pngs[size], target)
    scalable = hicolor / "scalable" / "apps" / f"{PACKAGE}.svg"
    scalable.parent.mkdir(parents=True)
    shutil.copyfile(app_icon.APP_SVG, scalable)

    doc = stage / "usr" / "share" / "doc" / PACKAGE
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(COPYRIGHT, encoding="utf-8")

    # Debian policy: directories and programs 0755, everything else 0644.
    for path in [stage, *stage.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        path.chmod(0o755 if path.is_dir() or mode & stat.S_IXUSR else 0o644)


def installed_size_kib(stage: Path) -> int:
    total = sum(p.lstat().st_size for p in stage.rglob("*") if p.is_file() or p.is_symlink())
    return (total + 1023) // 1024


def control_file(ver: str, arch: str, depends: list[str], size_kib: int) -> str:
    all_depends = list(dict.fromkeys(RUNTIME_DEPENDS + QT_RUNTIME_DEPENDS + depends))
    return "\n".join([
        f"Package: {PACKAGE}",
        f"Version: {ver}",
        f"Architecture: {arch}",
        f"Maintainer: {MAINTAINER}",
        f"Installed-Size: {size_kib}",
        f"Depends: {', '.join(all_depends)}",
        f"Recommends: {', '.join(RECOMMENDS)}",
        "Section: misc",
        "Priority: optional",
        "Description: scanning station for social-security archives (社保档案扫描工作站)",
        " ScanStation scans paper social-security dossiers page by page under their archival",
        " number (档号), keeps every page safe on disk and in a local catalog, reads the text",
        " with tesseract (offline), lets a second person check the pages, and seals signed",
        " year-end transfer batches that the archive room verifies and receives.",
        " .",
        " Run `scanstation` for the window or `scanstation --help` for the command line.",
        "",
    ])


def build_deb(reuse: bool = False) -> Path:
    require_tools()
    if not reuse or not (BUNDLE / PACKAGE).is_file():
        ensure_pyinstaller()
        ensure_translations()
        build_bundle()
    ver, arch = version(), architecture()
    stage = WORK / "deb" / f"{PACKAGE}_{ver}_{arch}"
    say("laying out the package tree")
    lay_out(stage, BUNDLE)
    depends, unresolved = library_depends(stage / INSTALL_DIR.lstrip("/"))
    if unresolved:
        say("libraries no installed package provides (their Qt plugins stay unused): " + ", ".join(unresolved))
    (stage / "DEBIAN").mkdir()
    (stage / "DEBIAN" / "control").write_text(control_file(ver, arch, depends, installed_size_kib(stage)),
                                              encoding="utf-8")
    DIST.mkdir(exist_ok=True)
    target = DIST / f"{PACKAGE}_{ver}_{arch}.deb"
    say("packing with dpkg-deb (xz)")
    run(["dpkg-deb", "--build", "--root-owner-group", "-Zxz", str(stage), str(target)],
        stdout=subprocess.DEVNULL)
    say(f"{target.relative_to(ROOT)}: {target.stat().st_size / 1e6:.1f} MB")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python installer/build_deb.py", description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true",
                        help="pack the bundle from the last PyInstaller run again instead of rebuilding it")
    args = parser.parse_args(argv)
    build_deb(reuse=args.reuse)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
