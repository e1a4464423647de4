"""Worker processes end with the station process that started them.

Kept free of heavy imports: a spawned worker imports this module to run its initializer.
"""

from __future__ import annotations

import os
import threading
import time


def die_with_parent(parent_pid: int) -> None:
    """Pool worker initializer: end this worker when the station process that started it is gone.

    After ``kill -9`` of the station nothing closes the pool; without this its workers (and with them
    multiprocessing's resource tracker, which stays while any of them holds its pipe) keep running and
    keep their memory. A daemon thread polls the parent's pid (twice a second) and leaves at once when
    the worker has been handed to another parent. Linux's PR_SET_PDEATHSIG is not used: it fires when the
    parent *thread* that started the worker ends, and the station starts workers from short-lived threads."""
    if os.name != "posix":
        return

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
