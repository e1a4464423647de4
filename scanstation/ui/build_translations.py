"""Build the GUI's translations: resources/i18n/scanstation_{zh_CN,en}.ts -> .qm.

    python -m scanstation.ui.build_translations            # compile .ts -> .qm (lrelease)
    python -m scanstation.ui.build_translations --update   # first refresh the .ts from the code (lupdate)

Uses the ``lrelease`` / ``lupdate`` that PySide6 ships (``pyside6-lrelease`` next to the Python
interpreter, or the binaries inside the PySide6 package). ``--update`` keeps every existing
translation and marks new source strings unfinished for the translator (Qt Linguist).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scanstation.storage import external
from scanstation.ui.resources import resource

LANGUAGES = ("zh_CN", "en")


def qt_tool(name: str) -> str:
    """Path of ``lrelease`` or ``lupdate`` as shipped with PySide6."""
    candidates = [Path(sys.executable).parent / f"pyside6-{name}"]
    try:
        import PySide6

        package = Path(PySide6.__file__).parent
        candidates += [package / name, package / f"{name}.exe", package / "Qt" / "libexec" / name]
    except ImportError:
        pass
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    found = external.which(f"pyside6-{name}") or external.which(name)
    if found:
        return found
    raise SystemExit(f"{name} not found: install PySide6-Essentials (it ships {name}).")


def ui_sources() -> list[str]:
    folder = Path(__file__).parent
    return [str(p) for p in sorted(folder.glob("*.py")) if p.name not in ("build_translations.py", "build_icons.py")]


def ts_path(language: str) -> Path:
    return resource("i18n", f"scanstation_{language}.ts")


def update(ts_files: list[Path], extra_args: tuple[str, ...] = ()) -> None:
    """Refresh ``ts_files`` with the source strings of scanstation/ui (lupdate)."""
    cmd = [
        qt_tool("lupdate"),
        "-locations",
        "none",
        "-no-obsolete",
        *extra_args,
        *ui_sources(),
        "-ts",
        *map(str, ts_files),
    ]
    external.run(cmd[0], cmd[1:], timeout=600)


def release(language: str) -> Path:
    ts = ts_path(language)
    qm = ts.with_suffix(".qm")
    result = external.run(
        qt_tool("lrelease"), ["-silent", str(ts), "-qm", str(qm)], timeout=300, ok_codes=tuple(range(256))
    )
    if result.returncode != 0 or not qm.exists():
        raise SystemExit(f"lrelease failed for {ts.name}: {result.stderr.strip() or result.stdout.strip()}")
    return qm


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scanstation.ui.build_translations")
    parser.add_argument("--update", action="store_true", help="refresh the .ts files from the code first (lupdate)")
    args = parser.parse_args(argv)
    if args.update:
        update([ts_path("zh_CN")])
        # English is the source language: its file only carries plural forms, if any (Qt convention).
        update([ts_path("en")], ("-pluralonly",))
    for language in LANGUAGES:
        qm = release(language)
        print(f"{qm.name}: {qm.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
