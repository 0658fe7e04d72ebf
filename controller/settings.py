"""Process-wide settings read from the environment once, at import (set by `mlopsctl run`)."""

from __future__ import annotations

import os

WATCH_SILENCE_SECONDS = float(os.environ.get("MLOPS_WATCH_SILENCE_SECONDS", "900"))
"""How long a kind with resources may go without a watch event before the liveness probe fails (seconds).
Must exceed the largest driftInterval: every drift check writes status, which is an event."""
