"""Collecting page-store objects that nothing in the catalog names (an archive on PostgreSQL).

A receiving desk writes a package's files into the store before the transaction that names them
commits (scanstation.transfer.receive), so a desk killed or stopped in between, and never retried,
leaves objects behind that no page and no record names. ``sweep`` removes those last changed more
than ``older_than_hours`` ago, with the destruction procedure's own two steps, so a desk that
commits at the same moment is never left naming a missing object:

1. under the store-removal lock taken exclusively (a desk holds it shared while it commits), the
   objects still unnamed are queued in ``store_removals`` and that commits;
2. ``finish_removals`` removes each queued object unless a page or record names it by then; a desk
   that committed in between, naming one already removed, stores it again from its package
   (``receive._restore_removed``).

Also removes unfinished writes in the store's ``tmp/`` older than the same age. Audited; the
administrator's (``store.sweep``); ``dry_run`` lists what would go and changes nothing.
"""

from __future__ import annotations

import time

from scanstation.errors import InvalidInput
from scanstation.home import now_iso

DEFAULT_AGE_HOURS = 72.0
MIN_AGE_HOURS = 1.0  # an intake writes its files within minutes of committing them
REGISTER = "store-sweep"  # store_removals.register_no of what a sweep queued


def _age(older_than_hours) -> float:
    try:
        hours = float(older_than_hours)
    except (TypeError, ValueError):
        hours = -1.0
    if not (MIN_AGE_HOURS <= hours <= 24 * 3650):
        raise InvalidInput(
            "--older-than must be a number of hours, at least {min}: '{v}'.",
            "--older-than 须为小时数，至少 {min}：“{v}”。",
            min=int(MIN_AGE_HOURS),
            v=older_than_hours,
        )
    return hours


def sweep(session, older_than_hours=DEFAULT_AGE_HOURS, dry_run: bool = False) -> dict:
    """Remove (or with ``dry_run`` list) the store objects no catalog row names, older than the age."""
    session.require("store.sweep")
    hours = _age(older_than_hours)
    store = session.home.page_store
    if store is None:
        raise InvalidInput(
            "This home keeps its images in its own folders, not in a page store: there is nothing to sweep.",
            "此工作目录的影像保存在其自身文件夹中，没有页面存储，无需清理。",
        )
    files = session.home.page_files()
    limit = time.time() - hours * 3600
    old = {sm3: size for sm3, size, modified in store.objects() if modified < limit}
    unnamed = files.unnamed(session.catalog.conn, sorted(old))
    result = {
        "store": store.url,
        "older_than_hours": hours,
        "objects_checked": len(old),
        "unnamed": len(unnamed),
        "bytes": sum(old[s] for s in unnamed),
        "dry_run": dry_run,
        "removed": [],
        "kept": [],
        "tmp_removed": 0,
    }
    if dry_run:
        result["objects"] = unnamed
        return result
    stamp = now_iso()
    with session.change("store.sweep", "store.sweep_queue", "store", store.url) as ch:
        ch.conn.lock_store_removals(shared=False)  # no desk is between writing and naming meanwhile
        queued = files.unnamed(ch.conn, unnamed)  # again, under the lock
        files.queue_removals(ch.conn, queued, REGISTER, stamp)
        ch.after = {"queued": len(queued), "older_than_hours": hours}
    pending = [r for r in files.pending_removals(session.catalog) if r["register_no"] == REGISTER]
    if pending:
        with session.change("store.sweep", "store.remove", "store", store.url) as ch:
            done = files.finish_removals(ch.conn, pending, now_iso())
            ch.after = {"removed": len(done["removed"]), "kept": done["kept"], "objects": done["removed"][:200]}
        result["removed"], result["kept"] = done["removed"], done["kept"]
    result["bytes"] = sum(old.get(s, 0) for s in result["removed"])
    result["tmp_removed"] = store.sweep_tmp(limit)
    return result


__all__ = ["DEFAULT_AGE_HOURS", "MIN_AGE_HOURS", "sweep"]
