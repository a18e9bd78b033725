"""Keep a long run's memory given back to the system.

glibc's malloc moves its mmap threshold up each time a large block (the 1 MiB request-body
blocks, download buffers) is freed, so later large blocks are carved from the heap arenas,
whose freed pages stay resident between smaller live objects. Over a million-interview run
the process's resident size grew to several times its live Python heap (measured with memray
in bench/bench_scale.py: 107 MB heap peak, 366 MB resident at 100,000 interviews). A fixed
threshold keeps every block of 128 KiB or more in its own mapping, returned on free.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys

_M_MMAP_THRESHOLD = -3  # from glibc's <malloc.h>
LARGE_BLOCK_BYTES = 128 * 1024  # glibc's own starting threshold, now held fixed


@functools.cache
def return_large_blocks_promptly() -> bool:
    """Fix glibc's mmap threshold for this process (once; later calls change nothing).

    Returns:
        True where it took effect (Linux with glibc); False elsewhere (macOS, Windows,
        musl-based images), where the allocator is left as it is.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt(_M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES) == 1
