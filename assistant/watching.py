"""Following a knowledge folder: a thread that calls back when files in it change.

watchfiles (the OS's notifications, inotify on Linux) tells within a few tenths of a second; where
notifications cannot be had (a network file system, the inotify limit reached) it polls instead.
Whatever it misses, a full check every RESCAN_SECONDS catches, and every quote is checked against
its file before it is sent anyway.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import watchfiles

from assistant.text import printable

log = logging.getLogger(__name__)

RESCAN_SECONDS = 30.0  # a full look at the folder, in case a notification was lost
# Changes are gathered for up to this long before one rebuild: saving a file often writes it
# several times (a temporary file, a rename), and one rebuild for all of them is enough.
GATHER_MS = 500
POLL_MS = 1000  # when polling: a change is seen within a second, well inside the 5 s promised


class Watcher:
    """Calls `on_change()` (in its own thread) after files below `root` change."""

    def __init__(self, root: Path, on_change: Callable[[], None]) -> None:
        self.root, self.on_change = root, on_change
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="watch-knowledge", daemon=True)
        self.polling = False

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for _ in watchfiles.watch(
                    self.root,
                    stop_event=self._stop,
                    debounce=GATHER_MS * 4,
                    step=GATHER_MS,
                    rust_timeout=int(RESCAN_SECONDS * 1000),
                    yield_on_timeout=True,  # an empty set: time for the full look
                    force_polling=self.polling or None,
                    poll_delay_ms=POLL_MS,
                    raise_interrupt=False,
                    ignore_permission_denied=True,
                ):
                    if self._stop.is_set():
                        return
                    self.on_change()
            except Exception as e:  # a watcher that dies silently is worse
                if self.polling:
                    log.warning("Watching %s failed (%s); retrying", printable(self.root), e)
                    self._stop.wait(POLL_MS / 1000)
                else:
                    log.warning(
                        "Cannot watch %s for changes (%s); checking it every %.0f s instead",
                        printable(self.root),
                        e,
                        POLL_MS / 1000,
                    )
                    self.polling = True
