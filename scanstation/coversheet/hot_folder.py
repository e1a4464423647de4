"""The hot folder in split mode: a network scanner drops one stack of many dossiers, with cover sheets.

Complete files in the folder (not its 档号 sub-folders) are taken in name order as one continuing
stack: a file (or a page file) with no sheet in front continues the dossier the previous file ended
with, so a scanner that writes one file per page works as well as one that writes a multi-page TIFF.
The last dossier is reconciled against its 页数 when the next sheet arrives or the watch ends. A file
moves to ``taken/`` only after each of its pages is stored or held.
"""

from __future__ import annotations

import time
from pathlib import Path

from scanstation.capture import Capture
from scanstation.coversheet.split import import_split, reconcile, recover_runs
from scanstation.devices.base import CancelToken
from scanstation.devices.folder_backend import HotFolder
from scanstation.errors import NotFound, ScanStationError
from scanstation.i18n import tr
from scanstation.profiles import get_profile


class SplitHotFolder:
    def __init__(
        self,
        session,
        root: Path,
        profile_name: str | None = None,
        settle_s: float = 2.0,
        *,
        labels: bool = False,
        into: str | None = None,
        report=print,
    ):
        self.session = session
        self.root = Path(root)
        self.profile = get_profile(session.home, profile_name)
        self.labels = labels
        self.open_number = into or ""
        self.open_added = 0
        self.open_run = 0
        self.report = report
        self.capture = Capture(session)
        self.refused: dict[str, str] = {}
        self.results = []
        self.watcher = HotFolder(self.root, settle_s=settle_s, on_refused=self._refused)

    def _refused(self, path: Path, exc: ScanStationError) -> None:
        self.refused[str(path)] = exc.message
        self.report(tr("Not taken: {f}: {why}", "未收取：{f}：{why}", f=path, why=exc.message))

    def poll_once(self) -> int:
        files = sorted((f.path for f in self.watcher.poll()), key=lambda p: p.name)
        if not files:
            return 0
        carried = self.open_number
        result = import_split(
            self.capture,
            files,
            self.profile,
            labels=self.labels,
            into=carried or None,
            defer_last=True,
            on_event=self._event,
        )
        self.results.append(result)
        if carried and result.parts and result.parts[0].number == carried and result.parts[0].opened_by == "continued":
            self.open_added += len(result.parts[0].pages)
        for path in files:  # every page of these files is stored or held now
            self.watcher.acknowledge(path)
        if result.open_number and result.open_number != carried:
            self.open_added = len(result.parts[-1].pages)
        self.open_number, self.open_run = result.open_number, result.run_id
        if result.error is not None:
            self.report(result.error.message)
            self.refused[", ".join(p.name for p in files)] = result.error.message
        return len(files)

    def _event(self, event: dict) -> None:
        if event["event"] == "dossier" and not event.get("deferred"):
            self.report(tr("{n}: {p} page(s) filed.", "{n}：已存入 {p} 页。", n=event["number"], p=event["pages"]))
        elif event["event"] == "count":
            self.report(
                tr(
                    "{n}: {c} page(s), but 页数 says {d} (flagged).",
                    "{n}：{c} 页，与页数 {d} 不符（已标记）。",
                    n=event["number"],
                    c=event["counted"],
                    d=event["declared"],
                )
            )

    def close_stack(self) -> dict | None:
        """The watch ends: reconcile the dossier still open."""
        if not self.open_number:
            return None
        dossier = self.session.catalog.one("SELECT id FROM dossiers WHERE number = ?", (self.open_number,))
        outcome = reconcile(self.session, dossier["id"], self.open_run, self.open_added)
        self.open_number = ""
        return outcome

    def run(self, cancel: CancelToken, once: bool = False, poll_s: float = 1.0) -> None:
        try:
            if once:
                deadline = time.monotonic() + self.watcher.settle_s * 2 + 1
                while time.monotonic() < deadline and not cancel.cancelled:
                    self.poll_once()
                    cancel.wait(min(poll_s, self.watcher.settle_s / 2 or 0.1))
                return
            while not cancel.cancelled:
                self.poll_once()
                cancel.wait(poll_s)
        finally:
            try:
                self.close_stack()
            finally:
                self.capture.close()


def open_split_watch(
    session,
    root: Path,
    profile_name: str | None,
    *,
    settle_s: float,
    labels: bool = False,
    into: str | None = None,
    report=print,
) -> SplitHotFolder:
    """A watch of ``root`` for stacks with cover sheets: role and folder checked, crashed runs recovered."""
    session.require("capture")
    if not root.is_dir():
        raise NotFound("The folder {f} does not exist.", "文件夹 {f} 不存在。", f=str(root))
    recover_runs(session)
    return SplitHotFolder(session, root, profile_name, settle_s, labels=labels, into=into, report=report)
