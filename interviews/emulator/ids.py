"""Provider-style identifiers and deterministic shuffles."""

import functools
import hashlib
import random
import secrets
from collections.abc import Sequence
from typing import TypeVar

_T = TypeVar("_T")
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BASE62 = _BASE62
HEX = "0123456789abcdef"
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


def random_token(length: int, alphabet: str = BASE62) -> str:
    """`length` random characters from `alphabet` (OpenAI-style ids such as `file-…`)."""
    return "".join(secrets.choice(alphabet) for _ in range(length))


@functools.cache
def _byte_table(alphabet: str) -> bytes:
    """A `bytes.translate` table mapping every byte value onto `alphabet` (ASCII)."""
    return bytes(ord(alphabet[value % len(alphabet)]) for value in range(256))


def stable_token(length: int, *parts: str, alphabet: str = BASE62) -> str:
    """`length` (≤ 64) characters from `alphabet` derived from `parts` (same parts, same token).

    One character per byte of a SHA-512 digest, translated in C: far cheaper than seeding an
    RNG, which matters for the ids of a 50,000-line batch (the slight modulo bias is
    irrelevant).
    """
    if length > 64:
        raise ValueError(f"a stable token has at most 64 characters, not {length}")
    digest = hashlib.sha512("\x1f".join(parts).encode()).digest()
    return digest[:length].translate(_byte_table(alphabet)).decode()
