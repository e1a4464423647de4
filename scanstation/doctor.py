"""``scanstation doctor``: checks of this computer and of a station home, each saying what is wrong and how to fix it.

A small registry: a check is a function ``(home) -> list[Finding]`` registered with ``@check``.
Other parts of the station add their checks by registering more (``register_check``). A failed
check makes the command exit with CHECK_FAILED; ``--fix`` applies the fixes that are safe to apply
(permissions), and the checks run again. Checks registered with ``needs_home=False`` (the programs
and Python packages the station uses, the scanners, the CJK fonts) also run without a home; they
get ``None``.

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
import sqlite3
import stat
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
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
    data: dict = field(default_factory=dict)  # machine-readable facts for --json (version, path, bytes free)

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
    needs_home: bool = True


CHECKS: dict[str, Check] = {}


def register_check(
    name: str, en: str, zh: str, run: Callable[[object], list[Finding]], needs_home: bool = True
) -> None:
    CHECKS[name] = Check(name, en, zh, run, needs_home)


def check(name: str, en: str, zh: str, needs_home: bool = True):
    def deco(fn):
        register_check(name, en, zh, fn, needs_home)
        return fn

    return deco


def run(home, only: list[str] | None = None, fix: bool = False) -> dict:
    """Run the registered checks (all, or ``only``); with ``fix`` apply automatic fixes and check again.
    Without a home (``None``) only the checks that need none run."""
    names = [n for n in CHECKS if (not only or n in only) and (home is not None or not CHECKS[n].needs_home)]
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


# -- this computer: programs, Python packages, scanners, fonts (no home needed) --------------------
def _dep_finding(name: str, dep, what_en: str, what_zh: str) -> Finding:
    """A Finding for a ``scanstation.storage.external.Dependency``: OK with its version, else FAIL (required) or WARN."""
    data = dep.to_dict()
    if dep.found:
        return Finding(name, OK, dep.name, dep.version or "installed", dep.version or "已安装", data=data)
    status = FAIL if dep.required else WARN
    detail = f" ({dep.detail})" if dep.detail else ""
    return Finding(
        name,
        status,
        dep.name,
        f"{dep.name} is not usable{detail}: {what_en}.",
        f"{dep.name} 不可用{detail}：{what_zh}。",
        f"Fix: {dep.fix}",
        f"修复：{dep.fix}",
        data=data,
    )


# (program, required, what is missing without it: en, zh)
PROGRAMS = (
    ("tesseract", True, "pages cannot be read (OCR)", "无法识别页面文字（OCR）"),
    ("fc-match", False, "CJK fonts are looked for at the usual places only", "仅在常见位置查找中文字体"),
    (
        "clamscan",
        False,
        "transfer packages are not scanned for malware",
        "移交包不做恶意代码检测",
    ),
    ("pdftoppm", False, "PDF exports cannot be viewed as images to check them", "无法将导出的 PDF 转为图像核对"),
    (
        "psql",
        False,
        "only needed for an archive on PostgreSQL (client)",
        "仅 PostgreSQL 档案库需要（客户端）",
    ),
)
VERSION_ARGS = {"pdftoppm": ("-v",)}  # poppler answers --version with an error
# language data of tesseract: required ones read the pages; osd turns pages upright
OCR_LANGUAGES = (
    ("chi_sim", True, "Chinese pages cannot be read", "无法识别中文页面"),
    ("eng", True, "Latin letters and digits are read worse", "拉丁字母和数字识别变差"),
    ("osd", False, "pages fed turned are not turned upright", "倒置或横放的页面不会自动转正"),
)
# (distribution, module imported to prove it works or None, required)
PYTHON_PACKAGES = (
    ("PySide6-Essentials", None, True),  # the window; imported only by the window (nothing else loads Qt)
    ("python-sane", "sane", sys.platform.startswith("linux")),
    ("pytesseract", "pytesseract", True),
    ("Pillow", "PIL.Image", True),
    ("sqlite-utils", "sqlite_utils", True),
    ("reportlab", "reportlab.pdfgen.canvas", True),
    ("zxing-cpp", "zxingcpp", True),
    ("onnxruntime", None, False),
    ("rapidocr-onnxruntime", None, False),
    ("psycopg", "psycopg", True),
)


@check("programs", "the programs the station starts", "扫描站调用的程序", needs_home=False)
def _programs(home) -> list[Finding]:
    from scanstation.storage import external, postgres_cluster

    out = []
    for name, required, what_en, what_zh in PROGRAMS:
        dep = external.dependency(name, required=required, version_args=VERSION_ARGS.get(name, ("--version",)))
        if name == "clamscan" and not dep.found and external.which("clamdscan"):
            dep = external.dependency("clamdscan", required=required)
        out.append(_dep_finding("programs", dep, what_en, what_zh))
    server = postgres_cluster.server_bin_dir()
    if server is None:
        dep = external.Dependency("initdb", "program", False, required=False, fix=external.install_hint("initdb"))
    else:
        dep = external.dependency("initdb", required=False, path=str(server / "initdb"))
    out.append(
        _dep_finding(
            "programs",
            dep,
            "only needed for an archive on PostgreSQL (server)",
            "仅 PostgreSQL 档案库需要（服务器）",
        )
    )
    return out


@check("ocr_languages", "the OCR language data", "文字识别语言数据", needs_home=False)
def _ocr_languages(home) -> list[Finding]:
    from scanstation.errors import ProgramError
    from scanstation.ocr.tesseract import LANG_PACKAGES
    from scanstation.storage import external

    if external.which("tesseract") is None:
        return [
            Finding(
                "ocr_languages",
                FAIL,
                "tesseract",
                "tesseract is not installed, so no language data can be used.",
                "未安装 tesseract，无法使用任何语言数据。",
                f"Fix: {external.install_hint('tesseract')}",
                f"修复：{external.install_hint('tesseract')}",
            )
        ]
    try:
        proc = external.run("tesseract", ["--list-langs"], timeout=20)
    except ProgramError as exc:
        return [Finding("ocr_languages", FAIL, "tesseract", exc.en, exc.zh)]
    # tesseract 4 prints the list on stderr, 5 on stdout; the first line is a heading
    listed = (proc.stdout + "\n" + proc.stderr).splitlines()
    available = {line.strip() for line in listed if line.strip() and " " not in line.strip() and ":" not in line}
    out = []
    for code, required, what_en, what_zh in OCR_LANGUAGES:
        package = LANG_PACKAGES.get(code, "tesseract-ocr-" + code.replace("_", "-"))
        dep = external.Dependency(
            code, "data", code in available, required=required, fix=f"sudo apt-get install {package}"
        )
        if dep.found:
            dep.version = package
        out.append(_dep_finding("ocr_languages", dep, what_en, what_zh))
    return out


@check("python_packages", "the Python packages", "Python 软件包", needs_home=False)
def _python_packages(home) -> list[Finding]:
    from scanstation.storage import external

    out = []
    for dist, module, required in PYTHON_PACKAGES:
        dep = external.python_package(dist, module=module, required=required)
        out.append(_dep_finding("python_packages", dep, "a declared dependency", "声明的依赖"))
    return out


SCANNER_TIMEOUT_S = 20.0


@check("scanners", "the scanners this computer sees", "本机可用的扫描仪", needs_home=False)
def _scanners(home) -> list[Finding]:
    """Through the devices layer (SANE in a worker process with its time limit; TWAIN on Windows)."""
    from scanstation.errors import ScanStationError

    try:
        if sys.platform == "win32":
            from scanstation.devices.twain_backend import TwainScanner

            found = TwainScanner().list_devices()
        else:
            from scanstation.devices.sane_backend import SaneScanner

            found = SaneScanner(open_timeout_s=SCANNER_TIMEOUT_S).list_devices()
    except ScanStationError as exc:
        return [
            Finding(
                "scanners",
                WARN,
                "",
                f"Looking for scanners failed: {exc.en}",
                f"查找扫描仪失败：{exc.zh}",
                "Check that python-sane and the scanner's SANE driver are installed; scanimage -L (sane-utils) "
                "shows what SANE sees.",
                "请确认已安装 python-sane 和扫描仪的 SANE 驱动；scanimage -L（sane-utils）可列出 SANE 识别的设备。",
            )
        ]
    if not found:
        return [
            Finding(
                "scanners",
                WARN,
                "",
                "No scanner found.",
                "未找到扫描仪。",
                "Check the cable and the power; scanimage -L (package sane-utils) shows what SANE sees.",
                "请检查数据线和电源；scanimage -L（sane-utils 软件包）可列出 SANE 识别的设备。",
            )
        ]
    return [Finding("scanners", OK, d.id, d.display_name(), d.display_name(), data=d.to_dict()) for d in found]


@check("fonts", "the CJK fonts for documents and watermarks", "文档和水印使用的中文字体", needs_home=False)
def _fonts(home) -> list[Finding]:
    from scanstation import fonts

    found = [f for f in fonts.report() if f["cjk"]]
    fix_en = f"Fix: {fonts.INSTALL_HINT} (or set SCANSTATION_CJK_FONT to a TrueType .ttf/.ttc file)."
    fix_zh = f"修复：{fonts.INSTALL_HINT}（或将 SCANSTATION_CJK_FONT 设为 TrueType .ttf/.ttc 字体文件）。"
    if not found:
        return [
            Finding(
                "fonts",
                FAIL,
                "",
                "No font with Chinese characters was found: PDF documents and watermarks cannot be made.",
                "未找到含中文字符的字体：无法生成 PDF 文档和水印。",
                fix_en,
                fix_zh,
            )
        ]
    out = [
        Finding(
            "fonts",
            OK,
            f["path"],
            "embedded in PDF documents" if f["pdf"] else "for images only (PDF cannot embed its outlines)",
            "可嵌入 PDF 文档" if f["pdf"] else "仅用于图像（其字形无法嵌入 PDF）",
            data=f,
        )
        for f in found
    ]
    if not any(f["pdf"] for f in found):
        out.append(
            Finding(
                "fonts",
                FAIL,
                "",
                "No Chinese font that PDF documents can embed (TrueType outlines) was found.",
                "未找到可嵌入 PDF 文档的中文字体（TrueType 字形）。",
                fix_en,
                fix_zh,
            )
        )
    return out


# -- the home: free disk space, the catalog's integrity --------------------------------------------
MIN_FREE_BYTES = 2 * 1024**3  # below this a day of scanning (about 1 GB at 300 dpi) may not fit
LOW_FREE_BYTES = 20 * 1024**3
QUICK_CHECK_BYTES = 2 * 1024**3  # a bigger catalog gets quick_check (minutes instead of an hour)


def _size(n: int) -> str:
    return f"{n / 1024**3:.1f} GB"


@check("disk_space", "free disk space of the home", "工作目录所在磁盘的剩余空间")
def _disk_space(home) -> list[Finding]:
    import shutil

    path = Path(home.path)
    usage = shutil.disk_usage(path)
    data = {"free_bytes": usage.free, "total_bytes": usage.total}
    if usage.free < LOW_FREE_BYTES:
        status = FAIL if usage.free < MIN_FREE_BYTES else WARN
        return [
            Finding(
                "disk_space",
                status,
                str(path),
                f"Only {_size(usage.free)} free of {_size(usage.total)}: scanning stops when the disk is full.",
                f"仅剩 {_size(usage.free)}（共 {_size(usage.total)}）：磁盘写满时扫描将停止。",
                "Free space: send and prune sealed batches (scanstation outbox prune), or move the home to a "
                "bigger disk.",
                "请释放空间：发送并清理已封装的批次（scanstation outbox prune），或将工作目录迁到更大的磁盘。",
                data=data,
            )
        ]
    text = f"{_size(usage.free)} free of {_size(usage.total)}"
    return [
        Finding("disk_space", OK, str(path), text, f"剩余 {_size(usage.free)}（共 {_size(usage.total)}）", data=data)
    ]


@check("catalog_integrity", "the catalog's integrity check", "目录数据库完整性检查")
def _catalog_integrity(home) -> list[Finding]:
    catalog = home.catalog
    if getattr(catalog, "backend", "sqlite") != "sqlite":
        return [
            Finding(
                "catalog_integrity",
                NOT_APPLICABLE,
                "",
                "The catalog is on a PostgreSQL server: its administrator checks it (amcheck).",
                "目录数据库位于 PostgreSQL 服务器上：由其管理员检查（amcheck）。",
            )
        ]
    size = Path(catalog.path).stat().st_size
    pragma = "quick_check" if size > QUICK_CHECK_BYTES else "integrity_check"
    try:
        rows = [str(r[0]) for r in catalog.conn.execute(f"PRAGMA {pragma}(20)").fetchall()]
    except sqlite3.DatabaseError as exc:  # damage bad enough that the check itself stops
        rows = [str(exc)]
    data = {"pragma": pragma, "bytes": size, "result": rows}
    if rows == ["ok"]:
        return [Finding("catalog_integrity", OK, str(catalog.path), f"{pragma}: ok", f"{pragma}：正常", data=data)]
    return [
        Finding(
            "catalog_integrity",
            FAIL,
            str(catalog.path),
            f"{pragma} found damage: {'; '.join(rows)[:400]}",
            f"{pragma} 发现损坏：{'; '.join(rows)[:400]}",
            "Stop working at this station; restore the catalog from the latest backup (scanstation backup restore) "
            "and tell the administrator.",
            "请停止使用本工作站；从最近的备份恢复目录数据库（scanstation backup restore）并通知管理员。",
            data=data,
        )
    ]


__all__ = ["CHECKS", "FAIL", "Finding", "NOT_APPLICABLE", "OK", "WARN", "check", "register_check", "run"]
