"""Provider-style identifiers and deterministic shuffles."""

import hashlib
import random
import secrets
from collections.abc import Sequence
from typing import TypeVar

_T = TypeVar("_T")
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Anthropic ids look like `msgbatch_013Zva2CMHLNnXjNJJKqJ2EF`: "01" + 22 base62 characters.
_ID_BODY = 22


def _base62(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, digit = divmod(number, 62)
        chars.append(_BASE62[digit])
    return "".join(chars)


def random_id(prefix: str) -> str:
    """A fresh id such as `msgbatch_01…` (24 characters after the prefix)."""
    return f"{prefix}01{_base62(secrets.randbits(136), _ID_BODY)}"


def stable_id(prefix: str, *parts: str) -> str:
    """An id derived from `parts`, so the same request always yields the same id."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return f"{prefix}01{_base62(int.from_bytes(digest), _ID_BODY)}"


def seeded_rng(*parts: str) -> random.Random:
    """A `random.Random` seeded from `parts` (stable across runs and processes)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return random.Random(int.from_bytes(digest))


def stable_shuffle(items: Sequence[_T], *seed: str) -> list[_T]:
    """A copy of `items` in a pseudo-random order that depends only on `seed`."""
    shuffled = list(items)
    seeded_rng(*seed).shuffle(shuffled)
    return shuffled
