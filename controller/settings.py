"""Process-wide settings read from the environment once, at import (set by `mlopsctl run`)."""

from __future__ import annotations

import os

TIMER_INTERVAL = float(os.environ.get("MLOPS_TIMER_INTERVAL", "10"))
"""How often each resource's timer wakes to ask whether a drift check or a retry is due (seconds)."""

WATCH_SILENCE_SECONDS = float(os.environ.get("MLOPS_WATCH_SILENCE_SECONDS", "900"))
"""How long a kind with resources may go without a watch event before the liveness probe fails (seconds).
Must exceed the largest driftInterval: every drift check writes status, which is an event."""
