"""Charts drawn in separate processes, so that drawing never slows an acknowledgement.

A chart costs about 100 ms of CPU, an acknowledgement a few milliseconds. Drawn in the web
process, 50 charts at once hold the interpreter and the cores while Slack waits for acks (which
it retries after 3 s). Here each web process keeps a small pool of drawing processes, forked from
a clean fork server (never from the threaded web process itself), started at a lower CPU priority
so the acknowledgements come first, and warmed up at start so the first chart doesn't wait for
matplotlib to load.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from bot.engine.result import Result

log = logging.getLogger("collab.slack")

ORPHAN_CHECK_SECONDS = 2.0
DRAWING_NICENESS = 15  # far below the web process: while acks wait for CPU, Linux gives a nice-15
# process about 1/30 of a nice-0 one's share (charts barely move during a burst of acks, then take
# the cores), and a web process that is only waiting on Slack leaves the cores to the charts


def _start_drawing(web_process: int) -> None:
    """In each drawing process: lower priority, an exit when the web process is gone, what every chart needs."""
    with contextlib.suppress(OSError):
        os.nice(DRAWING_NICENESS)
    threading.Thread(target=_exit_without, args=(web_process,), name="collab-orphan-check", daemon=True).start()
    import matplotlib.backends.backend_agg  # noqa: F401  (charts render with Agg)
    import matplotlib.font_manager

    matplotlib.font_manager.fontManager.findfont("DejaVu Sans")


def _exit_without(web_process: int) -> None:
    """A drawing process outlives a killed web worker otherwise (it is the fork server's child)."""
    while True:
        time.sleep(ORPHAN_CHECK_SECONDS)
        try:
            os.kill(web_process, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:  # a new process under another user took the id: ours is gone
            os._exit(0)


def _draw(result: Result) -> tuple[bytes, float, int]:
    from bot.render.charts import render_png

    started = time.perf_counter()
    png = render_png(result)
    return png, time.perf_counter() - started, os.getpid()


def _ready() -> bool:
    return True


class ChartPool:
    """`draw(result)` returns a Future of the PNG bytes, drawn in one of `processes` processes."""

    def __init__(self, processes: int = 1):
        self.processes = max(1, processes)
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                context = multiprocessing.get_context("forkserver")
                # The fork server imports only these (not the caller's __main__); drawing processes fork from it.
                context.set_forkserver_preload(["bot.slack.chart_pool", "bot.render.charts"])
                self._executor = ProcessPoolExecutor(
                    max_workers=self.processes,
                    mp_context=context,
                    initializer=_start_drawing,
                    initargs=(os.getpid(),),
                )
            return self._executor

    def warm_up(self) -> None:
        """Start the drawing processes now (in the background), not on the first chart."""
        pool = self._pool()
        for _ in range(self.processes):
            pool.submit(_ready)

    def draw(self, result: Result) -> Future[bytes]:
        """The chart's PNG, drawn in another process; a pool broken by a killed process is replaced once."""
        asked = time.perf_counter()
        try:
            drawn = self._pool().submit(_draw, result)
        except BrokenProcessPool:
            self._replace()
            drawn = self._pool().submit(_draw, result)
        png: Future[bytes] = Future()

        def done(future: Future[tuple[bytes, float, int]]) -> None:
            try:
                data, seconds, pid = future.result()
            except BrokenProcessPool as error:
                self._replace()
                png.set_exception(error)
                return
            except BaseException as error:  # noqa: BLE001 - handed to whoever waits for the chart
                png.set_exception(error)
                return
            waited = time.perf_counter() - asked - seconds
            log.info(
                "chart for %s: waited %.0f ms, drawn in %.0f ms by process %d",
                result.command,
                1000 * waited,
                1000 * seconds,
                pid,
            )
            png.set_result(data)

        drawn.add_done_callback(done)
        return png

    def _replace(self) -> None:
        with self._lock:
            broken, self._executor = self._executor, None
        if broken is not None:
            log.warning("a chart process died; starting new ones")
            broken.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
