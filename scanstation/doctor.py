"""``scanstation doctor``: checks of a station home, each saying what is wrong and how to fix it.

A small registry: a check is a function ``(home) -> list[Finding]`` registered with ``@check``.
Other parts of the station add their checks by registering more (``register_check``). A failed
check makes the command exit non-zero; ``--fix`` applies the fixes that are safe to apply
(permissions), and the checks run again.

The checks here (R40): who may read the home. The home holds the catalog (OCR text, names, ID
numbers of insured people), the page images and the keys; on a shared computer any local account
could read them when they are world-readable, and could run an offline passphrase attack on a
readable key file. So the home is 0700 (its owner only; a deployment may give a group read access
to the home folder — documented in docs/security.md — but never to keys), key files are 0600,
the catalog and its WAL files grant nothing to others. On Windows, NTFS access lists are not
POSIX modes: these checks report "not applicable" there.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from scanstation.i18n import is_english

OK, FAIL, WARN, NOT_APPLICABLE = "ok", "fail", "warn", "not_applicable"


@dataclass
class Finding:
    check: str
    status: str
    object: str
    en: str
    zh: str
    fix_en: str = ""
    fix_zh: str = ""
    fix: Callable[[], None] | None = None  # a safe automatic fix, applied by --fix

    @property
    def message(self) -> str:
        text, fix = (self.en, self.fix_en) if is_english() else (self.zh, self.fix_zh)
        return f"{text} {fix}".strip()

    def to_dict(self) -> dict:
        out = asdict(self)
        out.pop("fix")
        out["fixable"] = self.fix is not None
        return out


@dataclass(frozen=True)
class Check:
    name: str
    en: str
    zh: str
    run: Callable[[object], list[Finding]]


CHECKS: dict[str, Check] = {}


def register_check(name: str, en: str, zh: str, run: Callable[[object], list[Finding]]) -> None:
    CHECKS[name] = Check(name, en, zh, run)


def check(name: str, en: str, zh: str):
    def deco(fn):
        register_check(name, en, zh, fn)
        return fn

    return deco


def run(home, only: list[str] | None = None, fix: bool = False) -> dict:
    """Run the registered checks (all, or ``only``); with ``fix`` apply automatic fixes and check again."""
    names = [n for n in CHECKS if not only or n in only]
    findings = [f for n in names for f in _run_one(home, CHECKS[n])]
    fixed = []
    if fix:
        for f in findings:
            if f.status == FAIL and f.fix is not None:
                try:
                    f.fix()
                    fixed.append(f.object)
                except OSError:
                    pass
        if fixed:
            findings = [f for n in names for f in _run_one(home, CHECKS[n])]
    failed = [f for f in findings if f.status == FAIL]
    return {"ok": not failed, "checks": names, "findings": findings, "failed": len(failed), "fixed": fixed}


def _run_one(home, c: Check) -> list[Finding]:
    try:
        return c.run(home) or [Finding(c.name, OK, "", "passed", "通过")]
    except Exception as exc:  # a broken check is a failed check, never a traceback
        return [Finding(c.name, FAIL, "", f"The check could not run: {exc}.", f"检查无法运行：{exc}。")]


# -- permissions -----------------------------------------------------------------------------
def _posix() -> bool:
    return os.name == "posix" and sys.platform != "win32"


def _mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(os.lstat(path).st_mode)
    except OSError:
        return None


def _chmod(path: Path, mode: int) -> Callable[[], None]:
    return lambda: os.chmod(path, mode)


def _na(name: str) -> list[Finding]:
    return [
        Finding(
            name,
            NOT_APPLICABLE,
            "",
            "POSIX file modes do not apply on this system (use NTFS access lists).",
            "此系统不使用 POSIX 文件权限（请使用 NTFS 访问控制列表）。",
        )
    ]


@check("home_permissions", "the home is not readable by other accounts", "工作目录不对其他账户开放")
def _home_permissions(home) -> list[Finding]:
    if not _posix():
        return _na("home_permissions")
    path = Path(home.path)
    mode = _mode(path)
    if mode is not None and mode & 0o027:
        return [
            Finding(
                "home_permissions",
                FAIL,
                str(path),
                f"The home {path} has mode {mode:04o}: other accounts on this computer can read the catalog "
                "(names, ID numbers, OCR text) and the page images.",
                f"工作目录 {path} 的权限为 {mode:04o}：本机其他账户可以读取目录数据库（姓名、身份证号、识别文字）和页面图像。",
                f"Fix: chmod 700 '{path}' (or scanstation doctor --fix).",
                f"修复：chmod 700 '{path}'（或执行 scanstation doctor --fix）。",
                _chmod(path, 0o700),
            )
        ]
    return [
        Finding(
            "home_permissions",
            OK,
            str(path),
            f"mode {mode:04o}" if mode is not None else "—",
            f"权限 {mode:04o}" if mode is not None else "—",
        )
    ]


@check("key_permissions", "keys are readable by their owner only (0600)", "密钥仅所有者可读（0600）")
def _key_permissions(home) -> list[Finding]:
    if not _posix():
        return _na("key_permissions")
    keys = Path(home.path) / "keys"
    out = []
    if not keys.exists():
        return []
    items = [keys] + sorted(keys.rglob("*"))
    for item in items:
        mode = _mode(item)
        if mode is None:
            continue
        is_dir = item.is_dir() and not item.is_symlink()
        want = 0o700 if is_dir else 0o600
        if mode & 0o077:
            what_en, what_zh = ("folder", "目录") if is_dir else ("key file", "密钥文件")
            out.append(
                Finding(
                    "key_permissions",
                    FAIL,
                    str(item),
                    f"The {what_en} {item} has mode {mode:04o}: any local account can copy it and try passphrases "
                    "offline.",
                    f"{what_zh} {item} 的权限为 {mode:04o}：本机任何账户都可复制它并离线猜测口令。",
                    f"Fix: chmod {want:o} '{item}' (or scanstation doctor --fix).",
                    f"修复：chmod {want:o} '{item}'（或执行 scanstation doctor --fix）。",
                    _chmod(item, want),
                )
            )
    return out


@check("catalog_permissions", "the catalog is not readable by other accounts", "目录数据库不对其他账户开放")
def _catalog_permissions(home) -> list[Finding]:
    if not _posix():
        return _na("catalog_permissions")
    from scanstation.home import CATALOG_FILE

    out = []
    for suffix in ("", "-wal", "-shm"):
        path = Path(home.path) / (CATALOG_FILE + suffix)
        mode = _mode(path)
        if mode is not None and mode & 0o007:
            out.append(
                Finding(
                    "catalog_permissions",
                    FAIL,
                    str(path),
                    f"{path.name} has mode {mode:04o}: other accounts can read personal data from it.",
                    f"{path.name} 的权限为 {mode:04o}：其他账户可以从中读取个人信息。",
                    f"Fix: chmod 600 '{path}' (or scanstation doctor --fix).",
                    f"修复：chmod 600 '{path}'（或执行 scanstation doctor --fix）。",
                    _chmod(path, 0o600),
                )
            )
    return out


# -- the audit trail's anchors (docs/audit-anchors.md) --------------------------------------------
@check("audit_anchor", "the audit trail matches its signed checkpoints", "审计日志与其签名检查点一致")
def _audit_anchor(home) -> list[Finding]:
    from scanstation import audit_anchor

    report = audit_anchor.verify(home)
    out = [
        Finding(
            "audit_anchor",
            FAIL,
            r.source,
            r.en,
            r.zh,
            "Do not change anything; report this to the auditor and compare with a backup "
            "(scanstation audit verify --checkpoint BACKUP).",
            "不要做任何修改；请报告审计员，并与备份比对（scanstation audit verify --checkpoint 备份目录）。",
        )
        for r in report.failures()
    ]
    if out:
        return out
    if not report.anchored:
        return [
            Finding(
                "audit_anchor",
                WARN,
                audit_anchor.FOLDER,
                "The audit trail has no signed checkpoint yet, so a rewrite of it could not be shown.",
                "审计日志尚无签名检查点，无法证明其未被改写。",
                "Make one: scanstation audit checkpoint --key NAME (sealing a batch makes one too).",
                "请创建：scanstation audit checkpoint --key 名称（封装批次时也会自动创建）。",
            )
        ]
    return [
        Finding(
            "audit_anchor",
            OK,
            audit_anchor.FOLDER,
            f"{report.anchored} checkpoint(s), up to entry {report.latest_seq}",
            f"{report.anchored} 个检查点，至第 {report.latest_seq} 条",
        )
    ]


__all__ = ["CHECKS", "FAIL", "Finding", "NOT_APPLICABLE", "OK", "WARN", "check", "register_check", "run"]
