"""A package as one .zip file (R23, R31), and reading one safely on the receiving side.

Writing: entries under one top folder named after the batch, names flagged UTF-8 (bit 0x800: the
zipfile module sets it for every non-ASCII name, so 档号 with "·" survive), ZIP_STORED (images are
already compressed) or ZIP_DEFLATED, never encrypted, ZIP64 when large.

Reading: before a byte is extracted every entry is checked — a name that is not flagged UTF-8,
paths that leave the package, links and device entries, encryption, compression other than
stored/deflate, duplicate names, and the decompression-bomb guard (declared sizes, ratio, total).
Extraction streams each entry under its declared size and never creates a link.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from scanstation.errors import InvalidInput
from scanstation.storage.files import fsync_dir
from scanstation.transfer.bagit import unsafe_path_reason

UTF8_FLAG = 0x800
ENCRYPTED_FLAG = 0x1
ALLOWED_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
MAX_ENTRIES = 1_000_000
MAX_RATIO = 200  # uncompressed / compressed, for entries above RATIO_FLOOR
RATIO_FLOOR = 1 << 20
MAX_TOTAL_BYTES = 4 * 1024**4  # 4 TiB
CHUNK = 1 << 20


@dataclass(frozen=True)
class ZipFinding:
    code: str  # zip-name-not-utf8 zip-unsafe-path zip-link zip-special zip-encrypted zip-method zip-bomb ...
    object: str
    en: str
    zh: str


def write_zip(package_dir: Path, target: Path, *, deflate: bool = False) -> int:
    """Write ``package_dir`` as one zip at ``target``; returns the zip's size."""
    package_dir = Path(package_dir)
    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    files = sorted(p for p in package_dir.rglob("*") if p.is_file() and not p.is_symlink())
    with zipfile.ZipFile(target, "w", compression=method, allowZip64=True, strict_timestamps=False) as zf:
        for path in files:
            arcname = f"{package_dir.name}/{path.relative_to(package_dir).as_posix()}"
            zf.write(path, arcname, compress_type=method)
    with open(target, "rb+") as fh:
        os.fsync(fh.fileno())
    fsync_dir(Path(target).parent)
    return Path(target).stat().st_size


def _finding(code: str, obj: str, en: str, zh: str) -> ZipFinding:
    return ZipFinding(code, obj, en, zh)


def inspect(zf: zipfile.ZipFile) -> tuple[list[ZipFinding], str]:
    """Security findings for every entry, and the folder prefix that holds the bag ("" or "NAME/")."""
    findings: list[ZipFinding] = []
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        findings.append(
            _finding(
                "zip-bomb",
                "*",
                f"the zip has {len(infos)} entries (limit {MAX_ENTRIES})",
                f"压缩包有 {len(infos)} 个条目（上限 {MAX_ENTRIES}）",
            )
        )
        return findings, ""
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        shown = name[:200]
        if not (info.flag_bits & UTF8_FLAG) and not name.isascii():
            findings.append(
                _finding(
                    "zip-name-not-utf8", shown, "the name is not flagged UTF-8 (R23)", "文件名未标记为 UTF-8（R23）"
                )
            )
        reason = unsafe_path_reason(name.rstrip("/"))
        if reason:
            findings.append(
                _finding(
                    "zip-unsafe-path", shown, f"path outside the package ({reason})", f"指向包外的路径（{reason}）"
                )
            )
        mode = info.external_attr >> 16
        if info.create_system == 3 and mode:
            if stat.S_ISLNK(mode):
                findings.append(_finding("zip-link", shown, "a symbolic link", "符号链接"))
            elif not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                findings.append(_finding("zip-special", shown, "not a regular file", "不是普通文件"))
        if info.flag_bits & ENCRYPTED_FLAG:
            findings.append(
                _finding(
                    "zip-encrypted",
                    shown,
                    "the entry is encrypted; packages are never encrypted (R31)",
                    "条目已加密；移交包不得加密（R31）",
                )
            )
        if info.compress_type not in ALLOWED_METHODS:
            findings.append(
                _finding(
                    "zip-method",
                    shown,
                    f"compression method {info.compress_type}: only stored or deflate (R31)",
                    f"压缩方法 {info.compress_type}：只允许存储或 deflate（R31）",
                )
            )
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            findings.append(
                _finding(
                    "zip-bomb",
                    shown,
                    f"expands {info.file_size // max(info.compress_size, 1)}-fold",
                    f"解压后膨胀 {info.file_size // max(info.compress_size, 1)} 倍",
                )
            )
        key = name.rstrip("/")
        if key in seen:
            findings.append(_finding("zip-duplicate", shown, "the name occurs twice", "名称重复出现"))
        seen.add(key)
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        findings.append(
            _finding(
                "zip-bomb",
                "*",
                f"{total} bytes uncompressed (limit {MAX_TOTAL_BYTES})",
                f"解压后 {total} 字节（上限 {MAX_TOTAL_BYTES}）",
            )
        )
    names = [i.filename for i in infos if not i.is_dir()]
    prefix = ""
    if "bagit.txt" not in names:
        tops = {n.split("/", 1)[0] for n in names if "/" in n}
        if len(tops) == 1 and f"{next(iter(tops))}/bagit.txt" in names:
            prefix = next(iter(tops)) + "/"
    return findings, prefix


def _extract(zf: zipfile.ZipFile, prefix: str, root: Path) -> None:
    for info in zf.infolist():
        if not info.filename.startswith(prefix) or info.filename == prefix:
            continue
        rel = info.filename[len(prefix) :]
        target = root / rel
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        with zf.open(info) as src, open(target, "xb") as out:
            while True:
                chunk = src.read(CHUNK)
                if not chunk:
                    break
                written += len(chunk)
                if written > info.file_size:
                    raise InvalidInput(
                        "{name} holds more data than its zip entry declares.",
                        "{name} 的实际数据多于压缩包条目声明的大小。",
                        name=info.filename,
                    )
                out.write(chunk)


@contextlib.contextmanager
def opened(path, work_dir: Path | None = None):
    """Yield ``(bag_root or None, findings, is_zip)`` for a package folder or .zip.

    For a zip with security findings nothing is extracted and ``bag_root`` is None. The extracted
    copy is removed when the block ends.
    """
    path = Path(path)
    if not (path.is_file() and zipfile.is_zipfile(path)):
        yield path, [], False
        return
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInput(
            "{file} is not a readable zip file ({error}).",
            "{file} 不是可读取的 zip 文件（{error}）。",
            file=str(path),
            error=str(exc),
        ) from exc
    temp = None
    try:
        with zf:
            findings, prefix = inspect(zf)
            if findings:
                yield None, findings, True
                return
            temp = Path(tempfile.mkdtemp(prefix=".receive-", dir=str(work_dir) if work_dir else None))
            name = prefix.rstrip("/") or path.stem
            root = temp / name
            root.mkdir()
            try:
                _extract(zf, prefix, root)
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise InvalidInput(
                    "{file} is damaged ({error}); ask for the package again.",
                    "{file} 已损坏（{error}）；请重新索取移交包。",
                    file=str(path),
                    error=str(exc),
                ) from exc
            yield root, [], True
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


def verify_against(zip_path: Path, package_dir: Path, expected: dict[str, dict[str, str]]) -> list[str]:
    """Re-hash every entry of a written zip and compare with ``expected`` {rel: {alg: hex}}.

    Returns the problems (missing, extra, changed entries); empty when every byte is as sealed.
    """
    import hashlib

    problems = []
    seen = set()
    with zipfile.ZipFile(zip_path) as zf:
        prefix = f"{package_dir.name}/"
        for info in zf.infolist():
            if info.is_dir():
                continue
            if not info.flag_bits & UTF8_FLAG and not info.filename.isascii():
                problems.append(f"{info.filename}: name not flagged UTF-8")
            rel = info.filename[len(prefix) :] if info.filename.startswith(prefix) else info.filename
            want = expected.get(rel)
            if want is None:
                problems.append(f"{rel}: not in the package")
                continue
            seen.add(rel)
            hashers = {alg: hashlib.new(alg) for alg in want}
            with zf.open(info) as src:
                while True:
                    chunk = src.read(CHUNK)
                    if not chunk:
                        break
                    for h in hashers.values():
                        h.update(chunk)
            for alg, h in hashers.items():
                if h.hexdigest() != want[alg]:
                    problems.append(f"{rel}: {alg} differs")
    for rel in sorted(set(expected) - seen):
        problems.append(f"{rel}: missing")
    return problems
