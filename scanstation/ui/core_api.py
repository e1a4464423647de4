"""The core operations the desk calls, in one place.

The window holds no business rule: every check (roles, 档号 grammar, page counts, QC by another
user) happens in the core modules the command line uses. This adapter only gathers those calls
for one signed-in user, so the views stay small and tests can see exactly what the GUI asks of the
core. Every method may block (catalog, files): views call them through ``ui.tasks.run_task``.
"""

from __future__ import annotations

import time
from pathlib import Path

from scanstation.errors import Refused
from scanstation.service import Session

VIEW_LOG_WINDOW_S = 600


class CoreApi:
    """Core calls on behalf of ``session.user``."""

    def __init__(self, session: Session):
        self.session = session
        self._capture = None
        self._ocr = None
        self._viewed: dict[str, float] = {}

    @property
    def home(self):
        return self.session.home

    @property
    def user(self):
        return self.session.user

    def can(self, permission: str) -> bool:
        return self.session.can(permission)

    def close(self) -> None:
        self.stop_background_ocr()
        if self._capture is not None:
            self._capture.close()
            self._capture = None

    # -- dossiers --------------------------------------------------------------------------
    def dossier(self, number: str) -> dict:
        """The catalog row for ``number`` (validated and normalised by the core), ID number masked,
        with the count of scanned pages."""
        from scanstation import capture, pages
        from scanstation.custody import corrections
        from scanstation.service import present_dossier

        self.session.require("catalog.read")
        row = capture.find_dossier(self.session, number)
        shown = present_dossier(self.session, row)
        shown["scanned_pages"] = pages.active_page_count(self.home.catalog, row["id"])
        shown["has_person_id"] = bool(row["person_id_number"])
        counts = [c for c in corrections.history(self.home.catalog, row["id"]) if c["field"] == "declared_pages"]
        shown["page_count_correction"] = counts[-1] if counts else None  # the panel shows the latest one
        return shown

    def correct_page_count(self, number: str, pages: int, reason: str) -> dict:
        """The logged correction of a dossier's 页数 (``custody.corrections.correct``): the core checks the
        role and state (a clerk while the dossier is being scanned; an archivist or admin otherwise)."""
        from scanstation.custody import corrections

        return corrections.correct(self.session, number, "declared_pages", str(pages), reason)

    def reveal_person_id(self, number: str) -> str:
        """The full ID number, for roles that may see it; the view is logged (R40)."""
        from scanstation import capture
        from scanstation.service import present_dossier

        self.session.require("personal.unmasked")
        row = capture.find_dossier(self.session, number)
        shown = present_dossier(self.session, row, unmasked=True)  # decrypted when the key is unlocked (R40)
        self.session.log("personal.view", "dossier", row["number"], {"field": "person_id_number"})
        return shown["person_id_number"]

    def suggestions(self, text: str, limit: int = 15) -> list[dict]:
        """Dossiers whose 档号 starts with ``text``, or whose 题名 / 姓名 / 档号 match it (search as you type)."""
        from scanstation import dossier_list, dossier_number

        self.session.require("catalog.read")
        text = (text or "").strip()
        if not text:
            return []
        prefix = dossier_number.normalise(text)
        rows = dossier_list.by_number_prefix(self.home.catalog, prefix, limit)
        if len(rows) < limit and len(text) >= 1:
            try:
                hits = self.search(text, limit=limit)
            except Exception:  # a half-typed query that the search refuses simply adds nothing
                hits = []
            seen = {r["number"] for r in rows}
            numbers = [h.number for h in hits if h.number not in seen]
            for number in dict.fromkeys(numbers):
                row = dossier_list.brief(self.home.catalog, number)
                if row:
                    rows.append(row)
                if len(rows) >= limit:
                    break
        return rows

    def check_for_capture(self, number: str) -> dict:
        return self.capture().check_dossier(number)

    # -- capture ---------------------------------------------------------------------------
    def capture(self):
        from scanstation import capture

        if self._capture is None:
            self._capture = capture.Capture(self.session)
        return self._capture

    _devices: list | None = None  # discovery takes seconds (SANE probes USB and network): once per process

    def devices(self, refresh: bool = False) -> list:
        """The scanners to offer. The demo scanner invents its pages: it is offered only on a demo station
        or where an administrator switched it on for training (``capture.demo_scanner``, audited)."""
        from scanstation.devices import factory

        if refresh or CoreApi._devices is None:
            CoreApi._devices = factory.all_devices(timeout_s=10.0, demo=True)
        allowed = self.demo_scanner_allowed()
        return [d for d in CoreApi._devices if d.backend != "demo" or allowed]

    def demo_scanner_allowed(self) -> bool:
        from scanstation.devices import factory

        return factory.demo_scanner_allowed(self.home)

    def is_demo_station(self) -> bool:
        from scanstation import settings

        return bool(settings.get(self.home, "station.demo"))

    def profiles(self) -> list:
        from scanstation import profiles

        return profiles.all_profiles(self.home)

    def profile(self, name: str | None):
        from scanstation import profiles

        return profiles.get_profile(self.home, name)

    def start_capture(
        self,
        number: str,
        device_id: str,
        profile_name: str | None,
        pages: int | None = None,
        scan_options: dict | None = None,
    ):
        """A ``CaptureRun`` (not started): ``run()`` it on the device pool."""
        options = dict(scan_options or {})
        return self.capture().start(number, device_id, self.profile(profile_name), pages=pages, scan_options=options)

    def recover_interrupted(self) -> list:
        """The station's one recovery (moves, sessions, reconcile; audited); the sessions it finished."""
        from scanstation import recovery

        return recovery.recover(self.session, self.capture()).sessions

    def interrupted_sessions(self) -> list[dict]:
        return self.capture().interrupted_sessions()

    # -- pages -----------------------------------------------------------------------------
    def list_pages(self, number: str) -> list[dict]:
        """The pages of a dossier, to be shown: opening an insured person's pages is audited (R40),
        once per dossier per ``VIEW_LOG_WINDOW_S`` so that reloads while scanning add no entries."""
        from scanstation import pages

        rows = pages.list_pages(self.session, number)
        now = time.monotonic()
        last = self._viewed.get(number)
        if rows and (last is None or now - last > VIEW_LOG_WINDOW_S):
            self.session.log("pages.view", "dossier", number, {"pages": len(rows)})
            self._viewed[number] = now
        return rows

    def page_path(self, number: str, file_name: str) -> Path | None:
        """Where the page strip and viewer open a page: the home's image file, or a private local copy of
        the page store's object on an archive on PostgreSQL (scanstation.storage.page_files)."""
        return self.home.page_files().local_path(number, file_name)

    def rotate(self, number: str, seq: int, degrees: int) -> None:
        from scanstation import pages

        pages.rotate(self.session, number, seq, degrees)

    def delete(self, number: str, seq: int) -> None:
        from scanstation import pages

        pages.delete(self.session, number, seq)

    def move(self, number: str, from_seq: int, to_seq: int) -> None:
        from scanstation import pages

        pages.move(self.session, number, from_seq, to_seq)

    def insert_last_after(self, number: str, count: int, after_seq: int) -> None:
        from scanstation import pages

        pages.move_last_pages_after(self.session, number, count, after_seq)

    def replace_with_last(self, number: str, seq: int) -> dict:
        from scanstation import pages

        return pages.replace_with_last(self.session, number, seq)

    def mark_not_scanned(self, number: str, original_page_no: int, note: str) -> None:
        from scanstation import pages

        pages.mark_not_scanned(self.session, number, original_page_no, note)

    def complete(self, number: str, explanations: dict | None = None):
        from scanstation import pages

        return pages.complete(self.session, number, explanations or {})

    def completion_check(self, number: str):
        """The page-count reconciliation without completing (for the explanation dialog)."""
        from scanstation import capture, pages

        dossier = capture.find_dossier(self.session, number)
        return pages.reconcile_count(self.session, dossier)

    def inverse_available(self, name: str) -> bool:
        """Whether the core offers the inverse of a page operation (for undo)."""
        from scanstation import pages

        return hasattr(pages, name)

    def undo_core(self, name: str, *args):
        """Call a core inverse operation (``restore_deleted``, ``undo_replace``, ``remove_not_scanned``)."""
        from scanstation import pages

        fn = getattr(pages, name, None)
        if fn is None:
            raise Refused("This step cannot be undone in this version.", "此版本不能撤销这一步。")
        return fn(self.session, *args)

    def ocr_queue_length(self) -> int:
        from scanstation.ocr import queue

        counts = queue.queue_counts(self.home.catalog)
        return counts.get("queued", 0) + counts.get("running", 0) + counts.get("retry", 0)

    def start_background_ocr(self, workers: int = 1) -> None:
        """OCR the queue in the background (worker processes) while the station is open. Not on an
        archive whose catalog is on a database server: its pages arrive with the stations' OCR text,
        and the OCR workers read a SQLite catalog."""
        from scanstation.ocr import queue

        if self.home.info.backend != "sqlite":
            return
        if getattr(self, "_ocr", None) is None:
            self._ocr = queue.OcrRunner(self.home, workers=workers)
        self._ocr.start()

    def wake_ocr(self) -> None:
        if getattr(self, "_ocr", None) is not None:
            self._ocr.wake()

    def stop_background_ocr(self) -> None:
        if getattr(self, "_ocr", None) is not None:
            self._ocr.stop(wait=True, timeout=30)
            self._ocr = None

    # -- QC --------------------------------------------------------------------------------
    def qc_reasons(self) -> list:
        from scanstation import qc

        return list(qc.QC_REASONS)

    def qc_queue(self, low_confidence_only: bool = False) -> list[dict]:
        from scanstation import qc

        return qc.queue(self.session, low_confidence_only=low_confidence_only)

    def qc_page_decision(self, number: str, seq: int, passed: bool, reason: str = "") -> None:
        from scanstation import qc

        qc.page_decision(self.session, number, seq, passed, reason)

    def qc_request_rescan(self, number: str, seq: int, reason: str) -> None:
        from scanstation import qc

        qc.request_rescan(self.session, number, seq, reason)

    def qc_approve(self, number: str) -> None:
        from scanstation import qc

        qc.approve(self.session, number)

    def qc_reject(self, number: str, reasons) -> None:
        from scanstation import qc

        qc.reject(self.session, number, reasons)

    def clerk_explanations(self, number: str) -> dict:
        from scanstation import qc

        return qc.clerk_explanations(self.session, number)

    def return_reasons(self, number: str) -> list[dict]:
        from scanstation import qc

        return qc.return_reasons(self.session, number)

    def returned_dossiers(self) -> list[dict]:
        from scanstation import qc

        return qc.returned(self.session)

    # -- search and import -----------------------------------------------------------------
    def search(self, query: str, limit: int = 50) -> list:
        from scanstation import search as search_index

        self.session.require("catalog.read")
        return search_index.search(self.home.catalog.conn, query, limit, unmasked=False)

    def import_catalog(self, path) -> object:
        from scanstation import catalog_import

        return catalog_import.import_catalog(self.session, path)

    @staticmethod
    def import_rejection_class():
        from scanstation import catalog_import

        return catalog_import.CatalogImportRejected

    # -- administration --------------------------------------------------------------------
    def users(self) -> list[dict]:
        from scanstation.service import list_users

        return list_users(self.session)

    def add_user(self, name: str, roles: tuple[str, ...], password: str) -> None:
        from scanstation.service import add_user

        add_user(self.session, name, roles, password)

    def set_setting(self, key: str, value) -> None:
        from scanstation import settings

        settings.set_value(self.session, key, value)

    # -- custody reminders (R39, fixity) ----------------------------------------------------
    def custody_reminders(self) -> dict:
        """What the window should remind this user of: an old backup, a fixity check that is due."""
        from scanstation.custody import backup, fixity

        out = {"backup": None, "fixity_due": False}
        if self.can("backup"):
            out["backup"] = backup.reminder(self.home)
        if self.can("fixity.check"):
            out["fixity_due"] = fixity.due(self.home)
        return out

    def sweep_store(self, dry_run: bool) -> dict:
        """Page-store objects nothing names: listed (``dry_run``) or removed (scanstation.custody.store_sweep)."""
        from scanstation.custody import store_sweep

        return store_sweep.sweep(self.session, dry_run=dry_run)

    def scheduled_fixity_check(self):
        from scanstation.custody import fixity

        return fixity.scheduled_check(self.session)

    def backup_now(self, dest: str) -> dict:
        """A new backup generation in ``dest``, then a verification of it (R39)."""
        from scanstation.custody import backups as backup  # the station's, or pg_dump + the store on PostgreSQL

        made = backup.create(self.session, dest)
        checked = backup.verify(self.session, dest, made.generation)
        return {
            "generation": made.generation,
            "files": made.files,
            "bytes": made.bytes,
            "copied": made.copied,
            "linked": made.linked,
            "warnings": made.warnings,
            "verified": checked.ok,
            "problems": len(checked.mismatched) + len(checked.missing) + len(checked.unexpected),
        }

    # -- signing keys (R30): the station's own key and the archive room's trusted public key ----------
    def signing_keys(self) -> dict:
        from scanstation.transfer import keys

        self.session.require("catalog.read")
        return keys.list_keys(self.home)

    def generate_key(self, name: str, passphrase: str) -> dict:
        from scanstation.transfer import keys

        return keys.generate(self.session, name, passphrase_text=passphrase)

    def export_key(self, name: str, out) -> dict:
        from scanstation.transfer import keys

        self.session.require("keys.manage")
        return keys.export(self.session, name, out)

    def trust_key(self, name: str, pem_file) -> dict:
        from scanstation.transfer import keys

        return keys.trust(self.session, name, pem_file)

    def setting(self, key: str):
        from scanstation import settings

        return settings.get(self.home, key)

    def declared_settings(self) -> list:
        from scanstation import settings

        return list(settings.DECLARED.values())

    def schema(self):
        from scanstation import dossier_number

        return dossier_number.schema_for_home(self.home)

    def retention_rules(self) -> list[dict]:
        from scanstation import retention

        return retention.table_for_home(self.home).to_list()

    def save_retention_rules(self, rules: list[dict]) -> None:
        from scanstation import retention

        table = retention.RetentionTable.from_list(rules)  # the core validates codes and duplicates
        self.set_setting(retention.SETTING_KEY, table.to_list())

    def save_profile(self, profile) -> None:
        from scanstation import profiles

        profiles.save_profile(self.session, profile)

    def audit_tail(self, limit: int = 200) -> list[dict]:
        from scanstation import audit

        self.session.require("audit.read")
        return audit.tail(self.home.catalog, limit)
