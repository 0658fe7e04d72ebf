"""The controller's heap trim gives freed memory back to the operating system (RSS falls), as its drift
scheduler does every few seconds after bursts of watch events."""

from __future__ import annotations

import subprocess
import sys

from tests.support import REPO

# Many blocks above pymalloc's 512 bytes (so glibc's), one in twenty kept: freed memory held inside the heap.
_FRAGMENTED = """
from controller.wiring.heap import trimmer

def rss_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

trim = trimmer()
assert trim is not None, "no malloc_trim in this C library"
blocks = [bytes(2000) for _ in range(100_000)]
kept = blocks[::20]
del blocks
before = rss_mib()
trim()
print(before, rss_mib(), len(kept))
"""


def test_trimming_the_heap_lowers_rss_after_a_burst() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _FRAGMENTED], cwd=REPO, capture_output=True, text=True, timeout=60, check=True
    )
    before, after, _ = (float(value) for value in result.stdout.split())
    assert before - after > 50, (before, after)  # most of the 190 MiB freed went back
