"""Process-wide settings read from the environment once, at import (set by `mlopsctl run`)."""

from __future__ import annotations

import os

WATCH_SILENCE_SECONDS = float(os.environ.get("MLOPS_WATCH_SILENCE_SECONDS", "900"))
"""How long a kind with resources may go without a watch event before the liveness probe fails (seconds).
Must exceed the largest driftInterval: every drift check writes status, which is an event."""

MAX_CONCURRENT_RECONCILES = int(os.environ.get("MLOPS_MAX_CONCURRENT_RECONCILES", "20"))
"""How many scheduled reconciles (drift checks, retries, wake-ups) run at once; one Workspace's resources take at most
half of them, so a slow workspace cannot hold up the others. Mostly waiting on external calls: size it for I/O."""
