"""The station's log file for unexpected errors, and plain words for operating-system errors.

An unexpected error (a defect) is written with its traceback to ``{home}/logs/scanstation.log``
(or, without a usable home, to the user's log folder) and the user reads one sentence naming
that file. Operating-system errors the user can act on (a file name too long, a file not found,
no permission, a full disk) are said in words, with the file concerned.
"""

from __future__ import annotations

import errno
import os
import traceback
from datetime import UTC, datetime
from pathlib import Path

from scanstation.i18n import tr

LOG_NAME = "scanstation.log"
MAX_LOG_BYTES = 5 * 1024 * 1024  # then one older file is kept as scanstation.log.1


def _shown(name) -> str:
    text = os.fsdecode(name) if isinstance(name, (bytes, os.PathLike)) else str(name)
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text if len(text) <= 80 else text[:40] + "…" + text[-30:]


def describe_os_error(exc: OSError) -> tuple[str, bool]:
    """(message in the user's language, whether it is unexpected and worth logging)."""
    name = _shown(exc.filename) if exc.filename is not None else ""
    code = exc.errno
    if code == errno.ENAMETOOLONG:
        return tr(
            "The file name is too long for the file system: {f} ({n} characters). Use a shorter name or path.",
            "文件名过长，超出文件系统的限制：{f}（{n} 个字符）。请使用较短的文件名或路径。",
            f=name,
            n=len(os.fsdecode(exc.filename)) if exc.filename is not None else "?",
        ), False
    if code == errno.ENOENT:
        return tr(
            "No such file or folder: {f}. Check the path.", "找不到文件或文件夹：{f}。请核对路径。", f=name
        ), False
    if code in (errno.EACCES, errno.EPERM):
        return tr(
            "No permission to use {f}. Check the file's permissions or ask the administrator.",
            "没有权限访问 {f}。请检查文件权限或联系管理员。",
            f=name,
        ), False
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return tr(
            "The disk is full ({f}). Free some space, then continue; everything stored before is intact.",
            "磁盘已满（{f}）。请清理磁盘空间后继续；之前保存的内容完好无损。",
            f=name,
        ), False
    if code in (errno.ENOTDIR, errno.EISDIR, errno.ELOOP, errno.EROFS, errno.EEXIST):
        return tr("Cannot use {f}: {e}.", "无法使用 {f}：{e}。", f=name, e=exc.strerror or exc), False
    return tr(
        "A file operation failed ({f}: {e}).", "文件操作失败（{f}：{e}）。", f=name or "—", e=exc.strerror or exc
    ), True


def log_dir(home: Path | None) -> Path:
    if home is not None and (Path(home) / "station.json").exists():
        return Path(home) / "logs"
    import platformdirs

    return Path(platformdirs.user_log_dir("ScanStation", appauthor=False))


def write(home: Path | None, argv: list[str], exc: BaseException) -> Path | None:
    """Append the error and its traceback to the log file; its path, or None when nothing could be written."""
    stamp = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
    from scanstation import __version__

    args = " ".join(a.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace") for a in argv)
    text = f"--- {stamp} ScanStation {__version__} pid {os.getpid()}\ncommand: scanstation {args}\n" + "".join(
        traceback.format_exception(type(exc), exc, exc.__traceback__)
    )
    candidates = [log_dir(home)]
    if home is not None and candidates[0] != log_dir(None):
        candidates.append(log_dir(None))
    for folder in candidates:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / LOG_NAME
            if path.exists() and path.stat().st_size > MAX_LOG_BYTES:
                os.replace(path, folder / (LOG_NAME + ".1"))
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8", errors="backslashreplace") as fh:
                fh.write(text)
            return path
        except OSError:
            continue
    return None
