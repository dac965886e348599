"""Process-wide state that outlives a single request: when it started, and whether to stop."""

from __future__ import annotations

import asyncio
import time


class Lifecycle:
    """Start time for /status, and the stop signal the server waits for."""

    def __init__(self) -> None:
        self.started_at = time.time()
        self.stop_requested = asyncio.Event()
