"""Give the heap's free pages back to the operating system every few seconds.

Bursts of watch events (many resources applied at once; every drift check's status write coming back as an
event) leave tens of MiB freed but still held inside glibc's malloc arenas, and counted in RSS. `malloc_trim(0)`
hands their whole free pages back: with 1,000 MLModels it took the controller from 206 to 184 MiB
(docs/scaling.md). Where the C library has no malloc_trim (musl), nothing is done.
"""

from __future__ import annotations

import asyncio
import ctypes
from collections.abc import Callable

TRIM_SECONDS = 15.0


def trimmer() -> Callable[[], None] | None:
    """A call that returns the heap's free pages to the operating system; None without glibc."""
    try:
        malloc_trim = ctypes.CDLL(None).malloc_trim  # the process's own C library
    except (OSError, AttributeError):
        return None
    malloc_trim.argtypes = [ctypes.c_size_t]
    malloc_trim.restype = ctypes.c_int

    def trim() -> None:
        malloc_trim(0)

    return trim


async def trim_forever(every: float = TRIM_SECONDS) -> None:
    """Until cancelled (the operator stops). A trim takes milliseconds; it runs off the event loop."""
    trim = trimmer()
    if trim is None:
        return
    while True:
        await asyncio.sleep(every)
        await asyncio.to_thread(trim)
