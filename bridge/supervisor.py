"""Keeps the bridge's worker tasks (router, digests, sender, pruner) running.

Each worker catches what one event or one message can do to it; a worker that dies
anyway is logged, reported to /readyz, and started again after a growing pause, so
that a bug hit on every start does not spin the CPU or flood the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

Work = Callable[[], Coroutine[Any, Any, None]]


class Supervisor:
    """Runs named workers until stopped, restarting each one that raises."""

    def __init__(self, first_pause: float = 1.0, longest_pause: float = 60.0) -> None:
        self._first_pause = first_pause
        self._longest_pause = longest_pause
        self._tasks: dict[str, asyncio.Task[None]] = {}
        #: workers that died and wait to be restarted, with how many times they died
        self._down: dict[str, int] = {}
        self.restarts = 0

    def start(self, name: str, work: Work) -> None:
        """Run `work()` as the worker `name`, again after each crash."""
        self._tasks[name] = asyncio.create_task(self._keep(name, work), name=name)

    def problems(self) -> dict[str, str]:
        """Workers not running as they should, each with a status word (no error text)."""
        return {name: "restarting" for name in self._down}

    async def _keep(self, name: str, work: Work) -> None:
        pause = self._first_pause
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            # Ready again only once a restarted worker has kept running for a while.
            recovered = loop.call_later(self._first_pause, self._down.pop, name, None)
            try:
                await work()
                return  # a worker with nothing to do (no chat configured) ends normally
            except Exception:
                log.critical("the %s stopped unexpectedly; restarting it", name, exc_info=True)
            finally:
                recovered.cancel()
            if loop.time() - started > self._longest_pause:
                pause = self._first_pause  # it had been running well: start over quickly
            self._down[name] = self._down.get(name, 0) + 1
            await asyncio.sleep(pause)
            pause = min(self._longest_pause, pause * 2)
            self.restarts += 1
            log.warning("restarting the %s", name)

    async def stop(self) -> None:
        """Cancel every worker and wait for them to end; they may be started again."""
        tasks, self._tasks = self._tasks, {}
        for task in tasks.values():
            task.cancel()
        for task in tasks.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._down.clear()
