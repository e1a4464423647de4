"""Every external program the station starts goes through ``run()``; ``dependency()`` says what is installed.

``run()`` finds the program (an explicit path, or PATH), starts it with a time limit, captures its
output and logs its stderr. A missing program, a time limit reached (the child is killed) or a
failed exit each raise a plain ``ProgramError`` naming the program and, for a missing one, the
Debian package that installs it. Callers that read their own exit codes (clamscan: 1 = found)
pass ``ok_codes``.

``dependency(name)`` / ``python_package(name)`` answer "is it there, which version, how to fix it"
for ``scanstation doctor`` and the start-up checks. Python libraries that call a program
themselves (pytesseract calls tesseract) use ``which()`` to find the same executable.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from dataclasses import asdict, dataclass

from scanstation.errors import ProgramError

log = logging.getLogger("scanstation.storage.external")

# The Debian (UOS, Kylin) package that installs each program the station may start.
PACKAGES = {
    "tesseract": "tesseract-ocr",
    "clamscan": "clamav",
    "clamdscan": "clamdscan",
    "fc-match": "fontconfig",
    "fc-list": "fontconfig",
    "pdftoppm": "poppler-utils",
    "openssl": "openssl",
    "scanimage": "sane-utils",
    "lupdate": "qt6-l10n-tools",
    "lrelease": "qt6-l10n-tools",
    "psql": "postgresql-client",
    "pg_dump": "postgresql-client",
    "initdb": "postgresql",
    "pg_ctl": "postgresql",
    "pg_isready": "postgresql-client",
    "runuser": "util-linux",
}
# A variable that names the program's path instead of PATH (a portable install, a test).
OVERRIDES = {"tesseract": "SCANSTATION_TESSERACT"}
DEFAULT_TIMEOUT_S = 60.0


class ProgramMissing(ProgramError):
    """The program is not installed (or not on PATH)."""


class ProgramTimeout(ProgramError):
    """The program ran past its time limit and was stopped."""


class ProgramFailed(ProgramError):
    """The program exited with an error."""

    def __init__(self, en: str, zh: str | None = None, /, returncode: int = 1, stderr: str = "", **fields):
        super().__init__(en, zh, **fields)
        self.returncode = returncode
        self.stderr = stderr


def package_of(name: str) -> str:
    return PACKAGES.get(os.path.basename(name), os.path.basename(name))


def install_hint(name: str) -> str:
    return f"sudo apt-get install {package_of(name)}"


def which(name: str) -> str | None:
    """Path of ``name``: its override variable, an explicit path, or the first on PATH."""
    explicit = os.environ.get(OVERRIDES.get(name, ""), "")
    if explicit:
        return explicit if os.path.isfile(explicit) else None
    if os.sep in name or (os.altsep and os.altsep in name):
        return name if os.path.isfile(name) else None
    return shutil.which(name)


def missing(name: str) -> ProgramMissing:
    return ProgramMissing(
        "The program {name} is not installed. Install it with: {hint}",
        "未安装程序 {name}。请安装：{hint}",
        name=os.path.basename(name),
        hint=install_hint(name),
    )


def _decode(data) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", errors="replace")


def _last_lines(text: str, n: int = 3) -> str:
    return " / ".join(line.strip() for line in text.splitlines()[-n:] if line.strip())[:500]


def run(
    program: str,
    args: list[str] | tuple[str, ...] = (),
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    input: bytes | str | None = None,
    env: dict[str, str] | None = None,
    ok_codes: tuple[int, ...] = (0,),
    prefix: list[str] | tuple[str, ...] = (),
    cwd: str | None = None,
) -> subprocess.CompletedProcess:
    """Run ``program args`` and return the finished process, stdout and stderr as text.

    ``env`` is added to the current environment; ``prefix`` goes before the program (``runuser -u
    postgres --``). Raises ProgramMissing, ProgramTimeout (the child is killed) or ProgramFailed (an
    exit code not in ``ok_codes``); stderr is logged in every case.
    """
    name = os.path.basename(program)
    exe = which(program)
    if exe is None:
        raise missing(program)
    command = [*prefix, exe, *map(str, args)]
    data = input.encode("utf-8") if isinstance(input, str) else input
    try:
        proc = subprocess.run(
            command,
            capture_output=True,
            timeout=timeout,
            env=dict(os.environ, **env) if env else None,
            cwd=cwd,
            **({"stdin": subprocess.DEVNULL} if data is None else {"input": data}),
        )
    except subprocess.TimeoutExpired as exc:
        log.warning("%s timed out after %.1f s: %s; stderr: %s", name, timeout, command, _decode(exc.stderr).strip())
        raise ProgramTimeout(
            "{name} did not finish within {s} s and was stopped.",
            "{name} 未在 {s} 秒内完成，已停止。",
            name=name,
            s=f"{timeout:g}",
        ) from exc
    except OSError as exc:
        log.warning("%s could not start: %s (%s)", name, command, exc)
        raise ProgramFailed(
            "Cannot start {name} ({error}). Reinstall it with: {hint}",
            "无法启动 {name}（{error}）。请重新安装：{hint}",
            returncode=-1,  # never started
            name=name,
            error=exc.strerror or str(exc),
            hint=install_hint(program),
        ) from exc
    stdout, stderr = _decode(proc.stdout), _decode(proc.stderr).strip()
    if proc.returncode not in ok_codes:
        log.warning("%s exited %s: %s; stderr: %s", name, proc.returncode, command, stderr)
        raise ProgramFailed(
            "{name} failed (exit {code}): {detail}",
            "{name} 运行失败（退出码 {code}）：{detail}",
            returncode=proc.returncode,
            stderr=stderr,
            name=name,
            code=proc.returncode,
            detail=_last_lines(stderr or stdout) or "-",
        )
    if stderr:
        log.debug("%s stderr for %s: %s", name, command, stderr)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


# -- the dependency check ------------------------------------------------------------------------
@dataclass
class Dependency:
    name: str
    kind: str  # program | python | data
    found: bool
    version: str = ""
    path: str = ""
    required: bool = True
    fix: str = ""  # a command that installs it (empty when found)
    detail: str = ""  # what it is for

    def to_dict(self) -> dict:
        return asdict(self)


def version_of(program: str, args: tuple[str, ...] = ("--version",), timeout: float = 10.0) -> str:
    """The first line the program prints for ``--version`` ("" when it cannot say)."""
    try:
        proc = run(program, list(args), timeout=timeout, ok_codes=tuple(range(256)))
    except ProgramError:
        return ""
    for line in (proc.stdout + "\n" + proc.stderr).splitlines():
        if line.strip():
            return line.strip()[:120]
    return ""


def dependency(
    name: str,
    *,
    required: bool = True,
    version_args: tuple[str, ...] = ("--version",),
    detail: str = "",
    path: str | None = None,
) -> Dependency:
    """Is program ``name`` installed (at ``path`` when given), which version, how to install it."""
    exe = which(path or name)
    if exe is None:
        return Dependency(name, "program", False, required=required, fix=install_hint(name), detail=detail)
    version = version_of(exe, version_args) if version_args else ""
    return Dependency(name, "program", True, version, exe, required, detail=detail)


def python_package(
    distribution: str, *, module: str | None = None, required: bool = True, pip_name: str | None = None, detail=""
) -> Dependency:
    """Is the Python distribution installed (and, with ``module``, importable), which version."""
    from importlib import metadata

    fix = f"pip install {pip_name or distribution}"
    try:
        version = metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return Dependency(distribution, "python", False, required=required, fix=fix, detail=detail)
    if module:
        import importlib

        try:
            importlib.import_module(module)
        except Exception as exc:  # installed but broken (a missing shared library): say so, never a traceback
            return Dependency(
                distribution,
                "python",
                False,
                version,
                required=required,
                fix=f"{fix} --force-reinstall",
                detail=f"import {module} failed: {exc}"[:300],
            )
    return Dependency(distribution, "python", True, version, required=required, detail=detail)


__all__ = [
    "Dependency",
    "PACKAGES",
    "ProgramFailed",
    "ProgramMissing",
    "ProgramTimeout",
    "dependency",
    "install_hint",
    "missing",
    "package_of",
    "python_package",
    "run",
    "version_of",
    "which",
]
