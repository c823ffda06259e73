"""Rate-limited logging for things the network does wrong (one line per key per interval)."""

from __future__ import annotations

import logging
import time

__all__ = ["RateLimitedLog"]


class RateLimitedLog:
    """At most one line per ``key`` every ``interval`` seconds; then says how many it skipped."""

    def __init__(self, logger: logging.Logger, interval: float = 1.0, max_keys: int = 1024) -> None:
        self._logger = logger
        self._interval = interval
        self._max_keys = max_keys
        self._next: dict[str, float] = {}
        self._skipped: dict[str, int] = {}

    def warning(self, key: str, message: str, *args: object) -> None:
        now = time.monotonic()
        if now < self._next.get(key, 0.0):
            self._skipped[key] = self._skipped.get(key, 0) + 1
            return
        if len(self._next) >= self._max_keys:
            self._next.clear()
            self._skipped.clear()
        self._next[key] = now + self._interval
        skipped = self._skipped.pop(key, 0)
        if skipped:
            self._logger.warning("%s (%d similar lines skipped)", message % args, skipped)
        else:
            self._logger.warning(message, *args)
