"""BagIt packages (RFC 8493, and the v0.93–0.97 drafts when reading): validation and writing.

Written here rather than taken from bagit-python because a receiving archive needs more than
"valid or not": every finding has a code, a bilingual message and the object concerned; paths
that leave the bag, symlinks and device files are refused before anything is opened; tag files
are read under size limits; and payload files are hashed once for all algorithms, in parallel.

Findings are split into ``problems`` (the bag is not valid) and ``warnings`` (valid, but a
careful receiver may refuse it; ``strict=True`` turns every warning into a problem).
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from scanstation.errors import InvalidInput
from scanstation.i18n import is_english
from scanstation.storage.files import storage_error, write_atomic

CHUNK = 1 << 20
MAX_LINE_BYTES = 64 * 1024
MAX_TAG_FILE_BYTES = 64 * 1024 * 1024

#: Versions whose layout this reader understands (0.93–0.95 call bag-info "package-info.txt").
SUPPORTED_VERSIONS = ("0.93", "0.94", "0.95", "0.96", "0.97", "1.0")
WRITE_VERSION = "1.0"

#: Manifest algorithm name -> (hashlib name, hex digest length).
ALGORITHMS: dict[str, tuple[str, int]] = {
    "md5": ("md5", 32),
    "sha1": ("sha1", 40),
    "sha224": ("sha224", 56),
    "sha256": ("sha256", 64),
    "sha384": ("sha384", 96),
    "sha512": ("sha512", 128),
    "sm3": ("sm3", 64),
}
WEAK_ALGORITHMS = ("md5", "sha1")

#: Files that operating systems drop into folders; copy tools often leave them out again.
SYSTEM_FILE_NAMES = {".ds_store", "thumbs.db", "desktop.ini", "ehthumbs.db", ".directory", "icon\r"}
SYSTEM_FILE_PREFIXES = ("._",)

_MANIFEST_RE = re.compile(r"^manifest-([a-z0-9]+)\.txt$")
_TAGMANIFEST_RE = re.compile(r"^tagmanifest-([a-z0-9]+)\.txt$")
_LINE_SPLIT_RE = re.compile(r"\r\n|\r|\n")
_VERSION_LINE_RE = re.compile(r"^BagIt-Version: ([0-9]+\.[0-9]+)$")
_ENCODING_LINE_RE = re.compile(r"^Tag-File-Character-Encoding: ([A-Za-z0-9][A-Za-z0-9._:-]*)$")
_MANIFEST_LINE_RE = re.compile(r"^(\S+)([ \t]+)(.*)$")
_HEX_RE = re.compile(r"^[0-9A-Fa-f]+$")
_OXUM_RE = re.compile(r"^([0-9]+)\.([0-9]+)$")
_PERCENT_RE = re.compile(r"%(0[AaDd]|25)")
_DRIVE_RE = re.compile(r"^[A-Za-z]:")

# ---------------------------------------------------------------------------------------------
# Findings

#: code -> (English, Chinese). Fields: {object} and {detail}.
MESSAGES: dict[str, tuple[str, str]] = {
    "not-a-directory": (
        "{object} is not a folder. Give the folder of the bag.",
        "{object} 不是文件夹。请指定包（bag）所在的文件夹。",
    ),
    "bagit-missing": (
        "bagit.txt is missing, so this is not a BagIt package. Ask the sender for the complete package.",
        "缺少 bagit.txt，这不是 BagIt 包。请向发送方索取完整的包。",
    ),
    "bagit-malformed": (
        "bagit.txt is malformed: {detail}. It must be exactly two lines, 'BagIt-Version: M.N' and 'Tag-File-Character-Encoding: ENCODING'.",
        "bagit.txt 格式错误：{detail}。它必须恰好两行：'BagIt-Version: M.N' 和 'Tag-File-Character-Encoding: 编码'。",
    ),
    "version-unsupported": (
        "BagIt version {detail} is not supported. Ask the sender for a BagIt 1.0 package.",
        "不支持 BagIt 版本 {detail}。请向发送方索取 BagIt 1.0 格式的包。",
    ),
    "encoding-unsupported": (
        "The tag file encoding {detail} named in bagit.txt is unknown. Ask the sender to use UTF-8.",
        "bagit.txt 中声明的标签文件编码 {detail} 无法识别。请发送方改用 UTF-8。",
    ),
    "payload-missing": (
        "The payload folder data/ is missing. Ask the sender for the complete package.",
        "缺少数据目录 data/。请向发送方索取完整的包。",
    ),
    "manifest-missing": (
        "The package has no payload manifest (manifest-ALGORITHM.txt). Ask the sender to seal it again.",
        "包中没有数据清单（manifest-算法.txt）。请发送方重新封装。",
    ),
    "algorithm-missing": (
        "There is no {detail} manifest, which this check requires. Ask the sender to seal the package with {detail}.",
        "缺少本次检查要求的 {detail} 清单。请发送方使用 {detail} 重新封装。",
    ),
    "algorithm-unsupported": (
        "The manifest {object} uses an algorithm this station cannot compute; it was not checked.",
        "清单 {object} 使用了本站无法计算的算法，未对其进行校验。",
    ),
    "weak-algorithm": (
        "The manifest {object} uses {detail}, which is too weak for a BagIt 1.0 package; sha256, sha512 or sm3 should be used.",
        "清单 {object} 使用了 {detail}，对 BagIt 1.0 包而言强度不足；应使用 sha256、sha512 或 sm3。",
    ),
    "manifest-syntax": (
        "{object} has a malformed line: {detail}. Ask the sender to seal the package again.",
        "{object} 有格式错误的行：{detail}。请发送方重新封装。",
    ),
    "manifest-duplicate": (
        "{object} lists the same file more than once: {detail}.",
        "{object} 多次列出同一文件：{detail}。",
    ),
    "manifest-conflict": (
        "{object} lists {detail} more than once with different checksums. Ask the sender to seal the package again.",
        "{object} 多次列出 {detail}，且校验值不同。请发送方重新封装。",
    ),
    "tag-file-encoding": (
        "{object} is not valid {detail}. Ask the sender to seal the package again.",
        "{object} 不是有效的 {detail} 文本。请发送方重新封装。",
    ),
    "tag-bom": (
        "{object} starts with a byte-order mark; it was ignored.",
        "{object} 以字节顺序标记（BOM）开头，已忽略。",
    ),
    "line-too-long": (
        "{object} has a line longer than {detail} bytes and was not read. Such a package is refused.",
        "{object} 中有一行超过 {detail} 字节，未读取。此类包不予接收。",
    ),
    "tag-file-too-large": (
        "{object} is larger than {detail} bytes and was not read. Such a package is refused.",
        "{object} 大于 {detail} 字节，未读取。此类包不予接收。",
    ),
    "bag-info-syntax": (
        "bag-info.txt has a malformed line: {detail}. Ask the sender to correct the package information.",
        "bag-info.txt 有格式错误的行：{detail}。请发送方更正包信息。",
    ),
    "bag-info-style": (
        "bag-info.txt does not follow BagIt 1.0 spacing: {detail}.",
        "bag-info.txt 的空格不符合 BagIt 1.0 规定：{detail}。",
    ),
    "payload-oxum-malformed": (
        "Payload-Oxum in bag-info.txt is malformed: {detail}. It must be 'BYTES.FILES'.",
        "bag-info.txt 中的 Payload-Oxum 格式错误：{detail}。应为“字节数.文件数”。",
    ),
    "payload-oxum-mismatch": (
        "Payload-Oxum says {detail}. Files are missing or were added: ask the sender for the complete package.",
        "Payload-Oxum 不符：{detail}。有文件缺失或被添加，请向发送方索取完整的包。",
    ),
    "payload-oxum-system-files": (
        "Payload-Oxum differs only by the absent system files: {detail}.",
        "Payload-Oxum 的差异仅来自缺失的系统文件：{detail}。",
    ),
    "path-unsafe": (
        "{object} names a path outside the package ({detail}). This is refused for security.",
        "{object} 指向包外的路径（{detail}）。出于安全考虑不予接收。",
    ),
    "path-not-payload": (
        "{object} lists {detail}, which is not inside data/.",
        "{object} 列出的 {detail} 不在 data/ 目录中。",
    ),
    "path-dot-slash": (
        "{object} writes paths with a leading './' ({detail}); read as relative to the bag.",
        "{object} 中的路径以“./”开头（{detail}），已按相对于包的路径读取。",
    ),
    "md5sum-marker": (
        "{object} uses md5sum's '*' binary marker ({detail}); it was ignored.",
        "{object} 使用了 md5sum 的“*”二进制标记（{detail}），已忽略。",
    ),
    "percent-not-encoded": (
        "{object} lists {detail} with a literal '%' where BagIt 1.0 wants '%25'; read as written.",
        "{object} 中的 {detail} 含未编码的“%”（BagIt 1.0 要求写作“%25”），已按原样读取。",
    ),
    "symlink": (
        "{object} is a symbolic link. Links are refused for security: ask for a package with real files.",
        "{object} 是符号链接。出于安全考虑不接收链接：请索取包含真实文件的包。",
    ),
    "special-file": (
        "{object} is not a regular file ({detail}). Such entries are refused for security.",
        "{object} 不是普通文件（{detail}）。出于安全考虑不予接收。",
    ),
    "name-not-utf8": (
        "A file name is not valid UTF-8: {object}. Ask the sender to rename it.",
        "文件名不是有效的 UTF-8：{object}。请发送方重命名。",
    ),
    "file-missing": (
        "{object} is listed in {detail} but missing from the package.",
        "{object} 列于 {detail} 中，但包中没有该文件。",
    ),
    "file-unlisted": ("{object} is in the package but not listed in {detail}.", "{object} 在包中，但未列入 {detail}。"),
    "digest-mismatch": (
        "{object} does not match its {detail} checksum: it was changed or damaged.",
        "{object} 与其 {detail} 校验值不符：文件已被修改或损坏。",
    ),
    "unreadable": ("{object} cannot be read: {detail}.", "无法读取 {object}：{detail}。"),
    "tag-file-missing": (
        "{object} is listed in {detail} but missing from the package.",
        "{object} 列于 {detail} 中，但包中没有该文件。",
    ),
    "tag-digest-mismatch": (
        "{object} does not match its checksum in {detail}: it was changed after sealing.",
        "{object} 与 {detail} 中的校验值不符：封装后被修改过。",
    ),
    "tag-manifest-missing": (
        "The package has no tag manifest (tagmanifest-ALGORITHM.txt), so its manifests and bag-info.txt are unprotected. It may have been deleted: ask the sender to seal the package again.",
        "包中没有标签清单（tagmanifest-算法.txt），清单和 bag-info.txt 未受保护，可能已被删除。请发送方重新封装。",
    ),
    "tag-manifest-incomplete": (
        "{object} does not cover {detail}, so that file is unprotected. Ask the sender to seal the package again.",
        "{object} 未覆盖 {detail}，该文件未受保护。请发送方重新封装。",
    ),
    "case-alias": (
        "{object} is listed twice with names that differ only in letter case ({detail}); only one such file exists.",
        "{object} 以仅大小写不同的名称被列出两次（{detail}），实际只有一个文件。",
    ),
    "case-collision": (
        "{object} and {detail} differ only in letter case; they cannot both be unpacked on Windows or macOS.",
        "{object} 与 {detail} 仅大小写不同，在 Windows 或 macOS 上无法同时解包。",
    ),
    "normalization-collision": (
        "{object} and {detail} differ only in Unicode normalisation (NFC/NFD); they are the same "
        "name on Windows and macOS stores, so one would overwrite the other.",
        "{object} 与 {detail} 仅 Unicode 规范化形式（NFC/NFD）不同；在 Windows 和 macOS 上是同一个名称，"
        "一个会覆盖另一个。",
    ),
    "normalization-alias": (
        "{object} is listed under two Unicode forms of the same name ({detail}).",
        "{object} 以同一名称的两种 Unicode 形式被列出（{detail}）。",
    ),
    "normalization-mismatch": (
        "{object} is listed under another Unicode form of its name ({detail}).",
        "{object} 在清单中使用了其名称的另一种 Unicode 形式（{detail}）。",
    ),
    "system-file": (
        "{object} is an operating-system file ({detail}), not archive content.",
        "{object} 是操作系统生成的文件（{detail}），不是档案内容。",
    ),
    "system-file-absent": (
        "{object} is an operating-system file listed in {detail} but absent; copy tools often drop such files.",
        "{object} 是列于 {detail} 中的操作系统文件，但已缺失；复制工具常会丢弃此类文件。",
    ),
    "fetch-present": (
        "The package has fetch.txt: parts of it are meant to be downloaded. This station never downloads; {detail}.",
        "包中有 fetch.txt：部分内容需另行下载。本站从不下载；{detail}。",
    ),
    "fetch-incomplete": (
        "{object} is listed in fetch.txt but not present: the package is incomplete and cannot be accepted.",
        "{object} 列于 fetch.txt 中但不存在：包不完整，不能接收。",
    ),
    "fetch-syntax": ("fetch.txt has a malformed line: {detail}.", "fetch.txt 有格式错误的行：{detail}。"),
    "fetch-unlisted": (
        "{object} is in fetch.txt but not listed in {detail}.",
        "{object} 列于 fetch.txt 中，但未列入 {detail}。",
    ),
}

SECURITY_CODES = frozenset({"path-unsafe", "symlink", "special-file", "line-too-long", "tag-file-too-large"})


@dataclass(frozen=True)
class Problem:
    """One finding: a stable ``code``, the message in both languages, and the object concerned."""

    code: str
    en: str
    zh: str
    object: str = ""

    @property
    def message(self) -> str:
        return self.en if is_english() else self.zh

    @property
    def security(self) -> bool:
        return self.code in SECURITY_CODES

    def to_dict(self) -> dict:
        return {"code": self.code, "object": self.object, "en": self.en, "zh": self.zh, "security": self.security}

    def __str__(self) -> str:
        return self.message


def finding(code: str, object: str = "", detail: object = "") -> Problem:
    """A finding; ``detail`` is language-neutral text or an ``(English, Chinese)`` pair."""
    en, zh = MESSAGES[code]
    detail_en, detail_zh = detail if isinstance(detail, tuple) else (detail, detail)
    return Problem(code, en.format(object=object, detail=detail_en), zh.format(object=object, detail=detail_zh), object)


def _line(number: int, text: str = "") -> tuple[str, str]:
    shown = f" {text[:80]!r}" if text else ""
    return f"line {number}{shown}", f"第 {number} 行{shown}"


@dataclass(frozen=True)
class FetchItem:
    url: str
    length: int | None
    path: str


@dataclass
class BagReport:
    """What validation found. ``valid`` is True when there is no problem (warnings allowed)."""

    path: Path
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    version: str | None = None
    encoding: str | None = None
    info: list[tuple[str, str]] = field(default_factory=list)
    manifests: dict[str, dict[str, str]] = field(default_factory=dict)
    tag_manifests: dict[str, dict[str, str]] = field(default_factory=dict)
    payload: dict[str, int] = field(default_factory=dict)
    tag_files: list[str] = field(default_factory=list)
    fetch: list[FetchItem] = field(default_factory=list)
    checked_algorithms: list[str] = field(default_factory=list)
    hashed: bool = False

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def complete(self) -> bool:
        """No fetch.txt item is missing (a holey bag is never acceptable for a transfer)."""
        return not any(p.code == "fetch-incomplete" for p in self.problems + self.warnings)

    @property
    def security_problems(self) -> list[Problem]:
        return [p for p in self.problems if p.security]

    def codes(self) -> set[str]:
        return {p.code for p in self.problems}

    def warning_codes(self) -> set[str]:
        return {p.code for p in self.warnings}

    def info_values(self, label: str) -> list[str]:
        """Values of a bag-info label (labels compare case-insensitively, RFC 8493 §2.2.2)."""
        wanted = label.casefold()
        return [value for name, value in self.info if name.casefold() == wanted]

    @property
    def uncovered_tag_files(self) -> list[str]:
        """Tag files that no tag manifest lists (tag manifests themselves excluded)."""
        covered = set().union(*self.tag_manifests.values()) if self.tag_manifests else set()
        return sorted(t for t in self.tag_files if t not in covered and not _TAGMANIFEST_RE.match(t))

    @property
    def payload_oxum(self) -> str:
        return f"{sum(self.payload.values())}.{len(self.payload)}"

    def to_dict(self) -> dict:
        return {
            "path": str(self.path),
            "valid": self.valid,
            "complete": self.complete,
            "version": self.version,
            "encoding": self.encoding,
            "problems": [p.to_dict() for p in self.problems],
            "warnings": [p.to_dict() for p in self.warnings],
            "info": [list(item) for item in self.info],
            "algorithms": sorted(self.manifests),
            "tag_algorithms": sorted(self.tag_manifests),
            "checked_algorithms": self.checked_algorithms,
            "hashed": self.hashed,
            "payload_files": len(self.payload),
            "payload_bytes": sum(self.payload.values()),
            "fetch": [[f.url, f.length, f.path] for f in self.fetch],
        }


# ---------------------------------------------------------------------------------------------
# Hashing (shared by sealing and validation)


@dataclass
class HashedFiles:
    """Result of :func:`hash_files`, keyed by the paths given: digests, sizes, and read errors."""

    digests: dict = field(default_factory=dict)
    sizes: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def available(algorithm: str) -> bool:
    """True if this Python's hashlib can compute the manifest algorithm (SM3 needs OpenSSL's)."""
    try:
        hashlib.new(ALGORITHMS[algorithm][0])
        return True
    except (KeyError, ValueError):
        return False


def _read_limited(path, limit: int) -> bytes:
    """At most ``limit`` + 1 bytes of a regular file, never following a final symlink."""
    fd = os.open(path, _OPEN_FLAGS)
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError("not a regular file")
        return fh.read(limit + 1)


def hashlib_name(algorithm: str) -> str:
    try:
        if not available(algorithm):
            raise KeyError(algorithm)
        return ALGORITHMS[algorithm][0]
    except KeyError:
        raise InvalidInput(
            "The checksum algorithm {alg} is not supported. Use one of: {known}.",
            "不支持校验算法 {alg}。请使用以下之一：{known}。",
            alg=algorithm,
            known=", ".join(ALGORITHMS),
        ) from None


def _hash_one(path, names: list[str], progress: Callable[[int], None] | None, tee=None) -> tuple[dict, int]:
    # O_NOFOLLOW/O_NONBLOCK: never follow a final symlink, never hang on a FIFO; fstat then
    # proves it is a regular file before a byte is read.
    fd = os.open(path, _OPEN_FLAGS)
    with os.fdopen(fd, "rb", buffering=0) as fh:
        st = os.fstat(fd)
        mode = st.st_mode
        if not stat.S_ISREG(mode):
            raise OSError(f"not a regular file ({_kind(mode)})")
        hashers = [hashlib.new(name) for name in names]
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        size = 0
        copy = tee.open(path, st) if tee is not None else None
        try:
            while True:
                n = fh.readinto(buf)
                if not n:
                    break
                chunk = view[:n]
                for h in hashers:  # hashlib releases the GIL for large updates: threads scale
                    h.update(chunk)
                if copy is not None:
                    copy = tee.write(path, copy, chunk)
                size += n
                if progress is not None:
                    progress(n)
        except BaseException:
            if copy is not None:
                tee.abort(path, copy)
            raise
    digests = {alg: h.hexdigest() for alg, h in zip(names, hashers)}
    if copy is not None:
        tee.done(path, copy, size, digests)
    return digests, size


def hash_files(
    paths: Iterable,
    algorithms: Iterable[str],
    workers: int | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    tee=None,
) -> HashedFiles:
    """Hash every file once for all ``algorithms``, files spread over a thread pool.

    Returns digests ``{path: {alg: hex}}``, sizes ``{path: bytes}`` and errors ``{path: text}``
    (unreadable, vanished, or not a regular file). ``progress(bytes)`` is called from the
    worker threads as data is read. ``tee`` (an object with ``open(path, stat)``, ``write(path, copy,
    chunk)`` and ``done(path, copy, size, digests)``, e.g. a page store's stager) is given every chunk
    as it is hashed, so that a copy made in the same read carries exactly the bytes the digests are of.
    """
    algs = list(dict.fromkeys(algorithms))
    names = [hashlib_name(a) for a in algs]
    paths = list(paths)
    result = HashedFiles()
    if workers is None:
        workers = os.cpu_count() or 1
    workers = max(1, min(workers, len(paths) or 1))

    def one(path):
        try:
            return path, _hash_one(path, names, progress, tee), None
        except OSError as exc:
            return path, None, exc.strerror or str(exc)

    outcomes: Iterator
    if workers == 1:
        outcomes = map(one, paths)
    else:
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hash")
        outcomes = pool.map(one, paths)
    try:
        for path, done, error in outcomes:
            if error is not None:
                result.errors[path] = error
                continue
            digests, size = done
            result.digests[path] = dict(zip(algs, digests.values()))
            result.sizes[path] = size
    finally:
        if workers != 1:
            pool.shutdown()
    return result


# ---------------------------------------------------------------------------------------------
# Paths


def encode_path(path: str) -> str:
    """Manifest form of a path (RFC 8493 §2.1.3): only CR, LF and % are percent-encoded."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def decode_path(text: str) -> str:
    return _PERCENT_RE.sub(lambda m: {"0a": "\n", "0d": "\r", "25": "%"}[m.group(1).lower()], text)


def unsafe_path_reason(path: str) -> str | None:
    """Why a manifest/fetch path could leave the bag or mean something else elsewhere; None if safe."""
    if not path:
        return "empty path"
    if "\x00" in path:
        return "NUL character"
    if path.startswith(("/", "\\")):
        return "absolute path"
    if _DRIVE_RE.match(path):
        return "drive letter"
    if "\\" in path:
        return "backslash"
    if path.startswith("~"):
        return "home-folder shortcut"
    parts = path.split("/")
    if ".." in parts:
        return "'..' component"
    if any(part in ("", ".") for part in parts):
        return "empty or '.' component"
    return None


_REASON_ZH = {
    "empty path": "空路径",
    "NUL character": "含 NUL 字符",
    "absolute path": "绝对路径",
    "drive letter": "盘符",
    "backslash": "反斜杠",
    "home-folder shortcut": "主目录简写",
    "'..' component": "含“..”",
    "empty or '.' component": "含空的或“.”路径段",
}
_KIND_ZH = {
    "symbolic link": "符号链接",
    "named pipe": "命名管道",
    "socket": "套接字",
    "device": "设备文件",
    "special file": "特殊文件",
}


def _unsafe_detail(raw_path: str, reason: str) -> tuple[str, str]:
    return f"{raw_path[:200]!r}: {reason}", f"{raw_path[:200]!r}：{_REASON_ZH.get(reason, reason)}"


def _is_system_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name.casefold() in SYSTEM_FILE_NAMES or name.startswith(SYSTEM_FILE_PREFIXES)


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_ISFIFO(mode):
        return "named pipe"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


def _printable(name: str) -> str:
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


# ---------------------------------------------------------------------------------------------
# Validation


class _Validator:
    def __init__(
        self,
        root: Path,
        *,
        fast: bool,
        algorithms,
        require_tag_manifest: bool,
        strict: bool,
        workers: int | None,
        max_line_bytes: int,
        max_tag_file_bytes: int,
        tee=None,
    ):
        self.root = root
        self.tee = tee
        self.fast = fast
        self.wanted = [a.lower() for a in algorithms] if algorithms else None
        self.require_tag_manifest = require_tag_manifest
        self.strict = strict
        self.workers = workers
        self.max_line = max_line_bytes
        self.max_tag = max_tag_file_bytes
        self.report = BagReport(path=root)
        self.tag_sizes: dict[str, int] = {}
        self.version_tuple: tuple[int, ...] = (1, 0)
        self.seen: set[Problem] = set()

    # -- findings
    def problem(self, code, object="", detail=""):
        p = finding(code, object, detail)
        if p not in self.seen:
            self.seen.add(p)
            self.report.problems.append(p)

    def warn(self, code, object="", detail=""):
        p = finding(code, object, detail)
        if p not in self.seen:
            self.seen.add(p)
            self.report.warnings.append(p)

    # -- the run
    def run(self) -> BagReport:
        r = self.report
        try:
            root_is_dir = self.root.is_dir()
        except OSError:
            root_is_dir = False
        if not root_is_dir:
            self.problem("not-a-directory", str(self.root))
            return r
        self.scan()
        if "bagit.txt" not in self.tag_sizes:
            if not any(p.object == "bagit.txt" for p in r.problems):
                self.problem("bagit-missing", "bagit.txt")
            return self.finish()
        self.read_declaration()
        self.read_bag_info()
        self.read_manifests()
        self.read_fetch()
        self.check_payload()
        self.check_tag_manifests()
        self.check_oxum()
        self.verify_digests()
        return self.finish()

    def finish(self) -> BagReport:
        if self.strict and self.report.warnings:
            self.report.problems.extend(self.report.warnings)
            self.report.warnings = []
        return self.report

    # -- the file tree, without following anything
    def scan(self) -> None:
        r = self.report
        data_seen = False
        stack = [("", str(self.root))]
        while stack:
            rel_dir, abs_dir = stack.pop()
            try:
                entries = list(os.scandir(abs_dir))
            except OSError as exc:
                self.problem("unreadable", rel_dir or ".", exc.strerror or str(exc))
                continue
            for entry in entries:
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                shown = _printable(rel)
                try:
                    st = entry.stat(follow_symlinks=False)
                    mode, size = st.st_mode, st.st_size
                except OSError as exc:
                    self.problem("unreadable", shown, exc.strerror or str(exc))
                    continue
                if stat.S_ISLNK(mode):
                    self.problem("symlink", shown)
                    continue
                try:
                    rel.encode("utf-8")
                except UnicodeEncodeError:
                    self.problem("name-not-utf8", shown)
                    continue
                if stat.S_ISDIR(mode):
                    if rel == "data":
                        data_seen = True
                    stack.append((rel, entry.path))
                elif stat.S_ISREG(mode):
                    if rel.startswith("data/"):
                        r.payload[rel] = size
                    else:
                        self.tag_sizes[rel] = size
                else:
                    self.problem("special-file", shown, (_kind(mode), _KIND_ZH[_kind(mode)]))
        r.payload = dict(sorted(r.payload.items()))
        r.tag_files = sorted(self.tag_sizes)
        if not data_seen and not any(p.object == "data" for p in r.problems):
            self.problem("payload-missing", "data")

    # -- tag files
    def read_tag_lines(self, rel: str) -> list[str] | None:
        """Decoded lines of a tag file, or None (with a problem) when it must not be parsed."""
        size = self.tag_sizes.get(rel, 0)
        if size > self.max_tag:
            self.problem("tag-file-too-large", rel, self.max_tag)
            return None
        try:
            raw = _read_limited(self.root / rel, self.max_tag)
        except OSError as exc:
            self.problem("unreadable", rel, exc.strerror or str(exc))
            return None
        if len(raw) > self.max_tag:
            self.problem("tag-file-too-large", rel, self.max_tag)
            return None
        encoding = self.report.encoding or "UTF-8"
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            codec = "utf-8"
        if codec == "utf-8" and raw.startswith(codecs.BOM_UTF8):
            self.warn("tag-bom", rel)
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError as exc:
            line_no = raw[: exc.start].count(b"\n") + 1
            self.problem("tag-file-encoding", rel, (f"{encoding} (line {line_no})", f"{encoding}（第 {line_no} 行）"))
            return None
        if codec.startswith("utf-16") or codec.startswith("utf-32"):
            text = text.lstrip("\ufeff")
        lines = _LINE_SPLIT_RE.split(text)
        if lines and lines[-1] == "":
            lines.pop()
        for line in lines:
            if len(line) * 4 > self.max_line and len(line.encode("utf-8", "surrogatepass")) > self.max_line:
                self.problem("line-too-long", rel, self.max_line)
                return None
        return lines

    def read_declaration(self) -> None:
        r = self.report
        size = self.tag_sizes["bagit.txt"]
        if size > 4096:
            self.problem("tag-file-too-large", "bagit.txt", 4096)
            return
        try:
            raw = _read_limited(self.root / "bagit.txt", 4096)
        except OSError as exc:
            self.problem("unreadable", "bagit.txt", exc.strerror or str(exc))
            return
        if raw.startswith(codecs.BOM_UTF8):
            self.problem(
                "bagit-malformed", "bagit.txt", ("it starts with a byte-order mark", "文件以字节顺序标记（BOM）开头")
            )
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.problem("bagit-malformed", "bagit.txt", ("it is not UTF-8", "不是 UTF-8 编码"))
            return
        lines = _LINE_SPLIT_RE.split(text)
        if lines and lines[-1] == "":
            lines.pop()
        if len(lines) != 2:
            self.problem(
                "bagit-malformed", "bagit.txt", (f"{len(lines)} line(s) instead of 2", f"共 {len(lines)} 行，应为 2 行")
            )
        m = _VERSION_LINE_RE.match(lines[0]) if lines else None
        if m is None:
            self.problem(
                "bagit-malformed",
                "bagit.txt",
                (f"first line {lines[0][:80]!r}", f"第一行 {lines[0][:80]!r}")
                if lines
                else ("it is empty", "文件为空"),
            )
        else:
            r.version = m.group(1)
            if r.version not in SUPPORTED_VERSIONS:
                self.problem("version-unsupported", "bagit.txt", r.version)
            else:
                self.version_tuple = tuple(int(x) for x in r.version.split("."))
        m = _ENCODING_LINE_RE.match(lines[1]) if len(lines) > 1 else None
        if m is None:
            self.problem(
                "bagit-malformed",
                "bagit.txt",
                (f"second line {lines[1][:80]!r}", f"第二行 {lines[1][:80]!r}")
                if len(lines) > 1
                else ("no Tag-File-Character-Encoding line", "缺少 Tag-File-Character-Encoding 行"),
            )
        else:
            try:
                codecs.lookup(m.group(1))
                r.encoding = m.group(1)
            except LookupError:
                self.problem("encoding-unsupported", "bagit.txt", m.group(1))

    def exists(self, rel: str) -> bool:
        return rel in self.report.payload or rel in self.tag_sizes

    @property
    def v1(self) -> bool:
        return self.version_tuple >= (1, 0)

    def read_bag_info(self) -> None:
        name = "bag-info.txt"
        if name not in self.tag_sizes and self.version_tuple < (0, 96) and "package-info.txt" in self.tag_sizes:
            name = "package-info.txt"
        if name not in self.tag_sizes:
            return
        lines = self.read_tag_lines(name)
        if lines is None:
            return
        items: list[list[str]] = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            if line[0] in " \t":
                if not items:
                    self.problem(
                        "bag-info-syntax",
                        name,
                        (f"line {number} continues nothing", f"第 {number} 行是续行，但前面没有元素"),
                    )
                    continue
                items[-1][1] += " " + line.strip()
                continue
            label, colon, value = line.partition(":")
            if not colon or not label.strip():
                self.problem("bag-info-syntax", name, _line(number, line))
                continue
            if self.v1 and (label != label.strip() or (value and value[0] not in " \t")):
                self.warn("bag-info-style", name, _line(number, line))
            items.append([label.strip(), value.strip()])
        self.report.info = [(label, value) for label, value in items]

    def parse_manifest(self, rel: str, alg: str, payload: bool) -> dict[str, str] | None:
        lines = self.read_tag_lines(rel)
        if lines is None:
            return None
        expected_len = ALGORITHMS.get(alg, (None, None))[1]
        entries: dict[str, str] = {}
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            m = _MANIFEST_LINE_RE.match(line)
            if m is None:
                self.problem("manifest-syntax", rel, _line(number, line))
                continue
            digest, separator, raw_path = m.groups()
            if not _HEX_RE.match(digest) or (expected_len and len(digest) != expected_len):
                self.problem(
                    "manifest-syntax",
                    rel,
                    (f"line {number}: bad checksum {digest[:80]!r}", f"第 {number} 行：校验值 {digest[:80]!r} 无效"),
                )
                continue
            if (
                separator == " "
                and raw_path.startswith("*")
                and raw_path[1:]
                and raw_path not in self.tag_sizes
                and raw_path not in self.report.payload
            ):
                self.warn("md5sum-marker", rel, raw_path)
                raw_path = raw_path[1:]
            path = decode_path(raw_path) if self.v1 else raw_path
            if path != raw_path and not self.exists(path) and self.exists(raw_path.removeprefix("./")):
                # Many tools (bagit-python among them) do not encode '%': accept their literal names.
                self.warn("percent-not-encoded", rel, raw_path)
                path = raw_path
            if path.startswith("./"):
                self.warn("path-dot-slash", rel, path)
                path = path[2:]
            reason = unsafe_path_reason(path)
            if reason:
                self.problem("path-unsafe", rel, _unsafe_detail(raw_path, reason))
                continue
            if payload and not path.startswith("data/"):
                self.problem("path-not-payload", rel, path)
                continue
            digest = digest.lower()
            if path in entries:
                if entries[path] != digest:
                    self.problem("manifest-conflict", rel, path)
                elif self.v1:
                    self.problem("manifest-duplicate", rel, path)
                else:
                    self.warn("manifest-duplicate", rel, path)
                continue
            entries[path] = digest
        return entries

    def read_manifests(self) -> None:
        r = self.report
        top = [t for t in r.tag_files if "/" not in t]
        for target, pattern, payload in ((r.manifests, _MANIFEST_RE, True), (r.tag_manifests, _TAGMANIFEST_RE, False)):
            for rel in top:
                m = pattern.match(rel)
                if not m:
                    continue
                alg = m.group(1)
                if not available(alg):
                    self.warn("algorithm-unsupported", rel)
                    continue
                if self.v1 and alg in WEAK_ALGORITHMS:
                    self.warn("weak-algorithm", rel, alg)
                entries = self.parse_manifest(rel, alg, payload)
                if entries is not None:
                    target[alg] = entries
        manifest_files = [t for t in top if _MANIFEST_RE.match(t)]
        if not manifest_files:
            self.problem("manifest-missing", "manifest-*.txt")
        elif not any(available(m.group(1)) for m in map(_MANIFEST_RE.match, manifest_files) if m):
            for t in manifest_files:
                self.problem("algorithm-unsupported", t)
        if self.wanted:
            for alg in self.wanted:
                if alg not in r.manifests:
                    self.problem("algorithm-missing", f"manifest-{alg}.txt", alg)
        if self.require_tag_manifest:
            if not any(_TAGMANIFEST_RE.match(t) for t in top):
                self.problem("tag-manifest-missing", "tagmanifest-*.txt")
            elif self.wanted:
                for alg in self.wanted:
                    if alg not in r.tag_manifests:
                        self.problem("algorithm-missing", f"tagmanifest-{alg}.txt", alg)

    def read_fetch(self) -> None:
        r = self.report
        if "fetch.txt" not in self.tag_sizes:
            return
        lines = self.read_tag_lines("fetch.txt")
        if lines is None:
            return
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            parts = line.split(None, 2)
            if len(parts) != 3 or not (parts[1] == "-" or parts[1].isdigit()):
                self.problem("fetch-syntax", "fetch.txt", _line(number, line))
                continue
            url, length, raw_path = parts
            path = decode_path(raw_path) if self.v1 else raw_path
            reason = unsafe_path_reason(path)
            if reason:
                self.problem("path-unsafe", "fetch.txt", _unsafe_detail(raw_path, reason))
                continue
            if not path.startswith("data/"):
                self.problem("path-not-payload", "fetch.txt", path)
                continue
            r.fetch.append(FetchItem(url, None if length == "-" else int(length), path))
        missing = [item.path for item in r.fetch if item.path not in r.payload]
        self.warn(
            "fetch-present",
            "fetch.txt",
            (
                f"{len(missing)} of {len(r.fetch)} listed file(s) are not present",
                f"所列 {len(r.fetch)} 个文件中有 {len(missing)} 个不存在",
            )
            if missing
            else (f"all {len(r.fetch)} listed file(s) are present", f"所列 {len(r.fetch)} 个文件均已存在"),
        )
        for path in missing:
            self.problem("fetch-incomplete", path)
        for item in r.fetch:
            for alg, entries in r.manifests.items():
                if item.path not in entries:
                    self.problem("fetch-unlisted", item.path, f"manifest-{alg}.txt")

    # -- payload completeness; builds self.targets: (manifest kind, alg, listed path) -> disk path
    def check_payload(self) -> None:
        r = self.report
        self.targets: list[tuple[str, str, str, str]] = []  # (alg, listed, disk, digest)
        fetch_paths = {item.path for item in r.fetch}
        nfc_disk: dict[str, list[str]] = {}
        for path in r.payload:
            nfc_disk.setdefault(unicodedata.normalize("NFC", path), []).append(path)
        for group in nfc_disk.values():
            if len(group) > 1:
                self.warn("normalization-collision", group[0], ", ".join(repr(p)[1:-1] for p in group[1:]))
        # Case-insensitive stores (Windows; macOS, which also folds normalisation) see one name here.
        folded: dict[str, list[str]] = {}
        for nfc, group in nfc_disk.items():
            folded.setdefault(nfc.casefold(), []).append(group[0])
        for group in folded.values():
            if len(group) > 1:
                self.warn("case-collision", group[0], ", ".join(group[1:]))
        for path in r.payload:
            if _is_system_file(path):
                self.warn("system-file", path, path.rsplit("/", 1)[-1])
        self.absent_system_files: set[str] = set()
        for alg, entries in r.manifests.items():
            manifest = f"manifest-{alg}.txt"
            covered: set[str] = set()
            listed_folded: dict[str, list[str]] = {}
            for path in entries:
                listed_folded.setdefault(path.casefold(), []).append(path)
            for path, digest in entries.items():
                if path in r.payload:
                    covered.add(path)
                    self.targets.append((alg, path, path, digest))
                    continue
                if path in fetch_paths:
                    continue  # reported as fetch-incomplete
                same_nfc = [p for p in nfc_disk.get(unicodedata.normalize("NFC", path), []) if p != path]
                if same_nfc:
                    disk = same_nfc[0]
                    if disk in entries:
                        self.warn("normalization-alias", disk, f"{manifest}: {path!a} / {disk!a}")
                    else:
                        self.warn("normalization-mismatch", disk, f"{manifest}: {path!a}")
                    covered.add(disk)
                    self.targets.append((alg, path, disk, digest))
                    continue
                aliases = [p for p in listed_folded[path.casefold()] if p != path and p in r.payload]
                if aliases:
                    self.warn("case-alias", aliases[0], f"{manifest}: {path} / {aliases[0]}")
                    self.targets.append((alg, path, aliases[0], digest))
                    continue
                if _is_system_file(path):
                    self.warn("system-file-absent", path, manifest)
                    self.absent_system_files.add(path)
                    continue
                self.problem("file-missing", path, manifest)
            for path in r.payload:
                if path not in covered:
                    self.problem("file-unlisted", path, manifest)

    def check_tag_manifests(self) -> None:
        r = self.report
        self.tag_targets: list[tuple[str, str, str]] = []  # (alg, path, digest)
        for alg, entries in r.tag_manifests.items():
            manifest = f"tagmanifest-{alg}.txt"
            for path, digest in entries.items():
                if path == manifest:
                    continue  # a file cannot hold its own checksum
                if path in self.tag_sizes or path in r.payload:
                    self.tag_targets.append((alg, path, digest))
                elif _is_system_file(path):
                    self.warn("system-file-absent", path, manifest)
                else:
                    self.problem("tag-file-missing", path, manifest)
            if self.require_tag_manifest:
                must = ["bagit.txt"] + [f"manifest-{a}.txt" for a in r.manifests]
                must += [t for t in ("bag-info.txt", "fetch.txt") if t in self.tag_sizes]
                for path in must:
                    if path not in entries:
                        self.problem("tag-manifest-incomplete", manifest, path)

    def check_oxum(self) -> None:
        r = self.report
        values = r.info_values("Payload-Oxum")
        if not values:
            return
        if len(set(values)) > 1:
            self.problem("payload-oxum-malformed", "bag-info.txt", " / ".join(values))
            return
        m = _OXUM_RE.match(values[0])
        if m is None:
            self.problem("payload-oxum-malformed", "bag-info.txt", values[0])
            return
        want_bytes, want_files = int(m.group(1)), int(m.group(2))
        have_bytes, have_files = sum(r.payload.values()), len(r.payload)
        if (want_bytes, want_files) == (have_bytes, have_files):
            return
        if any(p.code == "fetch-incomplete" for p in r.problems):
            return  # missing fetch items already make the bag incomplete
        detail = (
            f"{want_files} file(s) and {want_bytes} byte(s), "
            f"but the package holds {have_files} file(s) and {have_bytes} byte(s)",
            f"应有 {want_files} 个文件、{want_bytes} 字节，实有 {have_files} 个文件、{have_bytes} 字节",
        )
        absent = len(getattr(self, "absent_system_files", ()))
        if absent and have_files + absent == want_files and have_bytes <= want_bytes:
            self.warn("payload-oxum-system-files", "bag-info.txt", detail)
        else:
            self.problem("payload-oxum-mismatch", "bag-info.txt", detail)

    def verify_digests(self) -> None:
        r = self.report
        payload_algs = [a for a in r.manifests if not self.wanted or a in self.wanted]
        tag_algs = [a for a in r.tag_manifests if not self.wanted or a in self.wanted]
        if self.fast:
            payload_algs = []  # fast: tag files only (small), no payload file is read
        need: dict[str, set[str]] = {}
        for alg, _listed, disk, _digest in self.targets:
            if alg in payload_algs:
                need.setdefault(disk, set()).add(alg)
        for alg, path, _digest in self.tag_targets:
            if alg in tag_algs:
                need.setdefault(path, set()).add(alg)
        algs = sorted(set(payload_algs) | set(tag_algs))
        r.checked_algorithms = algs
        if not need:
            r.hashed = not self.fast
            return
        # Largest first, so the pool does not end waiting on one big file.
        paths = sorted(need, key=lambda p: -(r.payload.get(p) or self.tag_sizes.get(p) or 0))
        # Tag files are few and small; hashing them for every algorithm costs nothing and keeps
        # to one pass over each payload file.
        hashed = hash_files([self.root / p for p in paths], algs, self.workers, tee=self.tee)
        by_rel = {}
        for rel in paths:
            full = self.root / rel
            if full in hashed.errors:
                self.problem("unreadable", rel, hashed.errors[full])
            else:
                by_rel[rel] = hashed.digests[full]
        for alg, listed, disk, digest in self.targets:
            if alg in payload_algs and disk in by_rel and by_rel[disk][alg] != digest:
                self.problem("digest-mismatch", listed, alg)
        for alg, path, digest in self.tag_targets:
            if alg in tag_algs and path in by_rel and by_rel[path][alg] != digest:
                self.problem("tag-digest-mismatch", path, f"tagmanifest-{alg}.txt")
        r.hashed = not self.fast


def is_tag_manifest(rel: str) -> bool:
    return bool(_TAGMANIFEST_RE.match(rel))


def validate_bag(
    path,
    *,
    fast: bool = False,
    algorithms: Iterable[str] | None = None,
    require_tag_manifest: bool = False,
    strict: bool = False,
    workers: int | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
    max_tag_file_bytes: int = MAX_TAG_FILE_BYTES,
    tee=None,
) -> BagReport:
    """Check a bag folder against RFC 8493 (reading v0.93–0.97 bags too) and return a report.

    ``fast``: structure, completeness, Payload-Oxum and tag-file checksums; no payload file is read.
    ``algorithms``: the manifests that must exist and are verified (default: every manifest).
    ``require_tag_manifest``: a tag manifest must exist and cover bagit.txt, bag-info.txt,
    fetch.txt and every payload manifest (a deleted tag manifest is otherwise undetectable).
    ``strict``: warnings count as problems.
    ``tee``: see :func:`hash_files` (a receiving desk stores the files in the same read).
    Never raises for a bad bag: everything found is in the report.
    """
    return _Validator(
        Path(path),
        fast=fast,
        algorithms=algorithms,
        require_tag_manifest=require_tag_manifest,
        strict=strict,
        workers=workers,
        max_line_bytes=max_line_bytes,
        max_tag_file_bytes=max_tag_file_bytes,
        tee=tee,
    ).run()


# ---------------------------------------------------------------------------------------------
# Writing (used by sealing)


def _write_tag_file(target: Path, data: bytes, durable: bool) -> None:
    """``durable``: written atomically and synced now. Without it, a plain write, for a caller that
    builds the bag in a private folder and syncs everything once before publishing it (sealing)."""
    if durable:
        write_atomic(target, data)
        return
    try:
        with open(target, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise storage_error(target, exc) from exc


def write_bagit_txt(bag_dir, *, durable: bool = True) -> Path:
    """Write the BagIt 1.0 declaration (UTF-8, no BOM, LF line ends)."""
    target = Path(bag_dir) / "bagit.txt"
    _write_tag_file(
        target, f"BagIt-Version: {WRITE_VERSION}\nTag-File-Character-Encoding: UTF-8\n".encode("ascii"), durable
    )
    return target


def _entries(entries) -> list[tuple[str, str]]:
    pairs = list(entries.items()) if isinstance(entries, Mapping) else [tuple(e) for e in entries]
    return sorted(pairs)


def write_manifest(bag_dir, alg: str, entries, *, tag: bool = False, durable: bool = True) -> Path:
    """Write ``manifest-ALG.txt`` (or ``tagmanifest-ALG.txt`` with ``tag=True``).

    ``entries``: ``{path: hexdigest}`` or ``(path, hexdigest)`` pairs, paths relative to the bag
    with "/" separators (payload paths start with "data/"). Lines are sorted by path.
    """
    hashlib_name(alg)
    expected_len = ALGORITHMS[alg][1]
    lines = []
    seen = set()
    for path, digest in _entries(entries):
        reason = unsafe_path_reason(path)
        if reason or (not tag and not path.startswith("data/")) or (tag and path.startswith("data/")):
            raise InvalidInput(
                "{path} cannot be listed in a {kind} manifest ({reason}).",
                "{path} 不能列入{kind_zh}清单（{reason}）。",
                path=path,
                kind="tag" if tag else "payload",
                kind_zh="标签" if tag else "数据",
                reason=reason or "wrong folder",
            )
        if path in seen:
            raise InvalidInput("{path} is listed twice.", "{path} 被列出两次。", path=path)
        seen.add(path)
        if not _HEX_RE.match(digest) or len(digest) != expected_len:
            raise InvalidInput(
                "The {alg} checksum of {path} is malformed.", "{path} 的 {alg} 校验值格式错误。", alg=alg, path=path
            )
        lines.append(f"{digest.lower()}  {encode_path(path)}\n")
    target = Path(bag_dir) / f"{'tagmanifest' if tag else 'manifest'}-{alg}.txt"
    _write_tag_file(target, "".join(lines).encode("utf-8"), durable)
    return target


def write_bag_info(bag_dir, items: Iterable[tuple[str, str]], *, durable: bool = True) -> Path:
    """Write bag-info.txt from ``(label, value)`` pairs, in order (labels may repeat)."""
    out = []
    for label, value in items:
        label, value = str(label), str(value)
        if not label or ":" in label or label != label.strip() or any(c in label for c in "\r\n"):
            raise InvalidInput(
                "{label!r} cannot be a bag-info label: no colon, line break or surrounding spaces.",
                "{label!r} 不能作为 bag-info 标签：不得含冒号、换行或首尾空格。",
                label=label,
            )
        if any(c in value for c in "\r\n"):
            raise InvalidInput(
                "The bag-info value of {label} contains a line break; write it on one line.",
                "bag-info 中 {label} 的值含有换行；请写成一行。",
                label=label,
            )
        line = f"{label}: {value.strip()}\n"
        if len(line.encode("utf-8")) > MAX_LINE_BYTES:
            raise InvalidInput(
                "The bag-info value of {label} is too long (more than {n} bytes).",
                "bag-info 中 {label} 的值过长（超过 {n} 字节）。",
                label=label,
                n=MAX_LINE_BYTES,
            )
        out.append(line)
    target = Path(bag_dir) / "bag-info.txt"
    _write_tag_file(target, "".join(out).encode("utf-8"), durable)
    return target


def payload_oxum(files) -> str:
    """Payload-Oxum "BYTES.COUNT" from ``{path: size}``, sizes, or file paths."""
    sizes = files.values() if isinstance(files, Mapping) else files
    total = count = 0
    for item in sizes:
        size = item if isinstance(item, int) else os.stat(item).st_size
        total += size
        count += 1
    return f"{total}.{count}"
