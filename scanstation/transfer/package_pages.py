"""A sampled dossier's page images, read from a received package for the archivist to look at (R33).

Read-only and careful with what the package says: only the page files its payload manifest lists
(``manifest-sha256.txt``) are read, each name is checked before it is used (no absolute path, no
"..", no link, nothing outside the package folder), every byte read is compared with the manifest's
checksum, and a .zip is read member by member in memory after the same entry checks as the intake
(``zip_package.inspect``) — nothing is extracted, nothing is written. Files of the dossier's folder
that the manifest does not list are named, never shown.
"""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from scanstation.errors import InvalidInput, NotFound, Refused
from scanstation.transfer import bagit, zip_package
from scanstation.transfer import package_layout as layout

MANIFEST = "manifest-sha256.txt"
MAX_PAGE_BYTES = 512 * 1024 * 1024


@dataclass
class PackagePage:
    seq: int
    name: str  # package path, e.g. data/电子档案/2024/…/{档号}-0001.jpg
    data: bytes


@dataclass
class PackageDossier:
    number: str
    pages: list[PackagePage] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)  # in the dossier's folder, not in the manifest: not read
    problems: list[tuple[str, str]] = field(default_factory=list)  # (en, zh) per page that could not be shown


def _page_of(rel: str, number: str) -> int | None:
    """The page number when ``rel`` is a page image of ``number`` in the package layout, else None."""
    parts = rel.split("/")
    if len(parts) < 4 or "/".join(parts[:2]) != layout.RECORDS_DIR or parts[-2] != number:
        return None
    m = layout.PAGE_FILE_RE.match(parts[-1])
    if m is None or m.group("number") != number:
        return None
    return int(m.group("seq"))


def parse_manifest(data: bytes) -> dict[str, str]:
    """``{path: sha256}`` of a payload manifest; lines with an unsafe or non-payload path are left out."""
    entries: dict[str, str] = {}
    for line in data.decode("utf-8", "replace").splitlines():
        m = bagit._MANIFEST_LINE_RE.match(line)
        if m is None:
            continue
        digest, _sep, raw = m.groups()
        path = bagit.decode_path(raw)
        if len(digest) != 64 or bagit.unsafe_path_reason(path) or not path.startswith("data/"):
            continue
        entries[path] = digest.lower()
    return entries


def dossier_pages(session, package, number: str) -> PackageDossier:
    """The page images of ``number`` in the package at ``package`` (a bag folder or a .zip), in page order."""
    session.require("receive")
    path = Path(package)
    number = (number or "").strip()
    if not number or bagit.unsafe_path_reason(number) or "/" in number:
        raise InvalidInput("'{n}' is not a dossier number of this package.", "“{n}”不是该移交包中的档号。", n=number)
    if path.is_file() and zipfile.is_zipfile(path):
        result = _from_zip(path, number)
    elif path.is_dir():
        result = _from_folder(path, number)
    else:
        raise NotFound(
            "The package {p} is not there any more (moved or deleted?). Check it again.",
            "移交包 {p} 已不存在（被移动或删除？）。请重新检测。",
            p=str(path),
        )
    if not result.pages and not result.problems:
        raise NotFound("The package lists no page images of {n}.", "移交包的清单中没有 {n} 的页面图像。", n=number)
    result.pages.sort(key=lambda p: p.seq)
    return result


def _check(result: PackageDossier, seq: int, rel: str, data: bytes, digest: str) -> None:
    if hashlib.sha256(data).hexdigest() != digest:
        result.problems.append(
            (
                f"{rel}: the file differs from the package's manifest; not shown.",
                f"{rel}：文件与移交包清单不符；未显示。",
            )
        )
        return
    result.pages.append(PackagePage(seq, rel, data))


def _from_folder(root: Path, number: str) -> PackageDossier:
    manifest = root / MANIFEST
    if manifest.is_symlink() or not manifest.is_file():
        raise Refused(
            "The package has no payload manifest ({m}); its pages cannot be shown.",
            "移交包没有载荷清单（{m}）；无法显示其页面。",
            m=MANIFEST,
        )
    entries = parse_manifest(manifest.read_bytes()[: bagit.MAX_TAG_FILE_BYTES])
    result = PackageDossier(number)
    real_root = root.resolve()
    folders = set()
    for rel, digest in entries.items():
        seq = _page_of(rel, number)
        if seq is None:
            continue
        target = root.joinpath(*rel.split("/"))
        folders.add(target.parent)
        try:
            st = os.lstat(target)
            # where the name really leads: a link on the way (a folder or the file) leads elsewhere
            inside = target.resolve(strict=True) == real_root.joinpath(*rel.split("/"))
        except OSError:
            result.problems.append((f"{rel}: listed in the manifest but missing.", f"{rel}：清单中列出但缺失。"))
            continue
        # a link (to the file or on the way to it) or anything but a plain file is never followed
        if not stat.S_ISREG(st.st_mode) or not inside:
            result.problems.append(
                (f"{rel}: not a plain file inside the package; not read.", f"{rel}：不是移交包内的普通文件；未读取。")
            )
            continue
        if st.st_size > MAX_PAGE_BYTES:
            result.problems.append((f"{rel}: too large to show.", f"{rel}：文件过大，无法显示。"))
            continue
        with open(target, "rb") as fh:
            data = fh.read(MAX_PAGE_BYTES + 1)
        _check(result, seq, rel, data, digest)
    listed = set(entries)
    for folder in folders:
        if folder.is_symlink() or not folder.is_dir():
            continue
        for item in sorted(folder.iterdir()):
            rel = item.relative_to(root).as_posix()
            if rel not in listed:
                result.unlisted.append(rel)
    return result


def _from_zip(path: Path, number: str) -> PackageDossier:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInput(
            "{file} is not a readable zip file ({error}).",
            "{file} 不是可读取的 zip 文件（{error}）。",
            file=str(path),
            error=str(exc),
        ) from exc
    with zf:
        findings, prefix = zip_package.inspect(zf)
        if findings:
            first = findings[0]
            raise Refused(
                "The zip package is unsafe ({what}: {obj}); nothing in it is shown. Return the package.",
                "该 zip 移交包不安全（{what_zh}：{obj}）；不显示其中任何内容。请退回该移交包。",
                what=first.en,
                what_zh=first.zh,
                obj=first.object,
            )
        members = {info.filename: info for info in zf.infolist() if not info.is_dir()}
        info = members.get(prefix + MANIFEST)
        if info is None or info.file_size > bagit.MAX_TAG_FILE_BYTES:
            raise Refused(
                "The package has no payload manifest ({m}); its pages cannot be shown.",
                "移交包没有载荷清单（{m}）；无法显示其页面。",
                m=MANIFEST,
            )
        entries = parse_manifest(zf.read(info))
        result = PackageDossier(number)
        folders = set()
        for rel, digest in entries.items():
            seq = _page_of(rel, number)
            if seq is None:
                continue
            folders.add(rel.rsplit("/", 1)[0] + "/")
            info = members.get(prefix + rel)  # only a name the manifest lists is ever looked up
            if info is None:
                result.problems.append((f"{rel}: listed in the manifest but missing.", f"{rel}：清单中列出但缺失。"))
                continue
            if info.file_size > MAX_PAGE_BYTES:
                result.problems.append((f"{rel}: too large to show.", f"{rel}：文件过大，无法显示。"))
                continue
            with zf.open(info) as src:
                data = src.read(MAX_PAGE_BYTES + 1)
            _check(result, seq, rel, data, digest)
        for name in sorted(members):
            rel = name[len(prefix) :] if name.startswith(prefix) else name
            if rel not in entries and any(rel.startswith(f) for f in folders):
                result.unlisted.append(rel)
        return result
