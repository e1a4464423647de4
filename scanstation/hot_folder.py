"""The hot folder: network scanners drop files, the station files them under their dossier.

Layout: ``DIR/{档号}/anything.tif`` — the sub-folder names the dossier. Files dropped straight into
``DIR`` may carry the 档号 before an underscore (``{档号}_0001.tif``). A file is taken only when it is
complete (size and time stable, fully decodable, no temporary name); it moves to ``taken/`` only
after its pages are stored and cataloged, and is never deleted. A file that cannot be filed stays
where it is and is reported.
"""

from __future__ import annotations

import time
from pathlib import Path

from scanstation.capture import Capture
from scanstation.devices.base import CancelToken
from scanstation.devices.folder_backend import HotFolder
from scanstation.dossier_number import normalise
from scanstation.errors import NotFound, ScanStationError
from scanstation.i18n import tr
from scanstation.profiles import get_profile
from scanstation.storage.faults import crash_point


def dossier_for(root: Path, path: Path) -> str | None:
    if path.parent != root:
        return normalise(path.parent.name)
    stem = path.stem
    return normalise(stem.split("_", 1)[0]) if "_" in stem else None


class HotFolderWatch:
    """Polls ``root`` and its dossier sub-folders; files each complete file into its dossier."""

    def __init__(self, session, root: Path, profile_name: str | None = None, settle_s: float = 2.0, report=print):
        self.session = session
        self.root = Path(root)
        self.profile = get_profile(session.home, profile_name)
        self.settle_s = settle_s
        self.report = report
        self.capture = Capture(session)
        self.folders: dict[Path, HotFolder] = {}
        self.stored = 0
        self.refused: dict[str, str] = {}

    def _refused(self, path: Path, exc: ScanStationError) -> None:
        self.refused[str(path)] = exc.message
        self.report(tr("Not taken: {f}: {why}", "未收取：{f}：{why}", f=path, why=exc.message))

    def _watchers(self) -> list[HotFolder]:
        folders = [self.root] + sorted(p for p in self.root.iterdir() if p.is_dir() and p.name != "taken")
        for folder in folders:
            if folder not in self.folders:
                self.folders[folder] = HotFolder(folder, settle_s=self.settle_s, on_refused=self._refused)
        return [self.folders[f] for f in folders if f in self.folders]

    def poll_once(self) -> int:
        taken = 0
        for watcher in self._watchers():
            for image_file in watcher.poll():
                number = dossier_for(self.root, image_file.path)
                if not number:
                    self._refused(
                        image_file.path,
                        ScanStationError(
                            "No 档号 for this file: put it in a folder named by the 档号, or name it 档号_….",
                            "无法确定该文件的档号：请放入以档号命名的文件夹，或命名为“档号_…”。",
                        ),
                    )
                    continue
                try:  # once per file: frames already filed (before a crash) are not filed again
                    result = self.capture.import_files(number, [image_file.path], self.profile, once_per_file=True)
                except ScanStationError as exc:
                    self._refused(image_file.path, exc)
                    continue
                if result.error is not None:
                    self._refused(image_file.path, result.error)
                    continue
                crash_point("watch.filed")
                watcher.acknowledge(image_file.path)  # only now: its pages are stored
                self.stored += len(result.pages)
                taken += 1
                if result.ended_by == "already_filed":
                    self.report(
                        tr(
                            "{f}: already filed under {d} (before an interruption); moved to taken/.",
                            "{f}：此前（中断之前）已存入 {d}；已移到 taken/。",
                            f=image_file.path.name,
                            d=number,
                        )
                    )
                    continue
                self.report(
                    tr(
                        "{f}: {n} page(s) filed under {d}.",
                        "{f}：已将 {n} 页存入 {d}。",
                        f=image_file.path.name,
                        n=len(result.pages),
                        d=number,
                    )
                )
        return taken

    def run(self, cancel: CancelToken, once: bool = False, poll_s: float = 1.0) -> None:
        try:
            if once:  # wait for files to settle, then take what is ready
                deadline = time.monotonic() + self.settle_s * 2 + 1
                while time.monotonic() < deadline and not cancel.cancelled:
                    self.poll_once()
                    cancel.wait(min(poll_s, self.settle_s / 2 or 0.1))
                return
            while not cancel.cancelled:
                self.poll_once()
                cancel.wait(poll_s)
        finally:
            self.capture.close()


def open_watch(session, root: Path, profile_name: str | None, settle_s: float, report=print) -> HotFolderWatch:
    """A watch of ``root`` for a clerk: the role and the folder are checked here, whichever shell asks."""
    session.require("capture")
    if not root.is_dir():
        raise NotFound("The folder {f} does not exist.", "文件夹 {f} 不存在。", f=str(root))
    return HotFolderWatch(session, root, profile_name, settle_s, report=report)
