"""The allocator setting that keeps a long run's resident size near its live heap."""

from __future__ import annotations

import subprocess
import sys

import pytest

from interviews.memory import return_large_blocks_promptly

# Frees a 4 MiB block (which, by default, moves glibc's mmap threshold up to 4 MiB), then
# allocates 1 MiB and prints whether it got a mapping of its own (returned to the system on
# free) or a piece of the heap (kept resident).
_PROBE = """
import ctypes, sys
from interviews.memory import return_large_blocks_promptly

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
        "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "fixed":
    assert return_large_blocks_promptly()
big = bytearray(4 << 20)
del big
before = libc.mallinfo2().hblks
block = bytearray(1 << 20)
print(libc.mallinfo2().hblks - before)
"""


def _mapped_blocks_added(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True
    )
    return int(done.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator only")
def test_large_blocks_get_their_own_mapping_after_a_larger_one_was_freed() -> None:
    assert _mapped_blocks_added("default") == 0  # glibc moved its threshold up: heap
    assert _mapped_blocks_added("fixed") == 1  # held at 128 KiB: a mapping of its own


def test_calling_it_again_changes_nothing() -> None:
    assert return_large_blocks_promptly() is return_large_blocks_promptly()
