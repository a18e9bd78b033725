"""The emulator's prompt cache: which prompt prefixes a provider holds, and what a request's
cache reads and writes come to, billed as the providers document them.

A prompt is a list of text blocks in order (system prompt, then each message); a prefix ends
at a block boundary and is counted in the emulator's tokens (`approx_tokens` of its text).
A request marks where prefixes are written (`marks`: a block index and a lifetime):

- Anthropic: each `cache_control` block, and the last block for a top-level `cache_control`
  (automatic caching). A read is the longest live prefix found at a mark or up to 20 blocks
  before it; the tokens from there to the last mark are written (`cache_creation_input_tokens`,
  split by lifetime, 5 minutes or 1 hour); nothing is cached when the prefix at the last mark
  is below the model's minimum (here 1,024 tokens for every model).
- OpenAI: implicit caching, one breakpoint at the end of the prompt, kept for 24 h (the
  default retention of organizations without zero data retention). A read is the longest live
  prefix at any earlier boundary, counted in whole 128-token blocks, from 1,024 tokens.
  Implicit writes are not billed, so none are reported.
- Gemini API and Vertex AI: implicit caching, as OpenAI's but exact token counts, from 1,024
  tokens (4,096 for Pro models), kept for 5 minutes ("requests with a similar prefix in a short
  amount of time"); nothing written is billed.

Entries are per model (caches are), expire on the emulator's clock, and a hit renews them.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass

# The emulator's token count (`approx_tokens`): one token per four characters, rounded up.
_CHARS_PER_TOKEN = 4

ANTHROPIC_LOOKBACK = 20  # blocks before a breakpoint that Anthropic checks for a hit
MINUTES_5 = 300.0
HOUR = 3600.0
DAY = 86400.0


@dataclass(frozen=True)
class CacheUse:
    """What one request read from and wrote to the cache, in tokens."""

    read: int = 0
    written: int = 0
    written_ttl: float = 0.0
    """The lifetime (seconds) of the written entry: its last mark's."""


def _tokens(chars: int) -> int:
    return -(-chars // _CHARS_PER_TOKEN)


class PromptCache:
    """Live prompt prefixes of every emulated provider; safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[bytes, tuple[float, float]] = {}  # key → (expires, lifetime)

    def clear(self) -> None:
        """Forget every prefix (the emulator's reset)."""
        with self._lock:
            self._entries.clear()

    def use(
        self,
        scope: str,
        blocks: Sequence[str],
        marks: Sequence[tuple[int, float]],
        *,
        now: float,
        min_tokens: int,
        lookback: int | None = None,
        granularity: int = 1,
    ) -> CacheUse:
        """Look up and store the prefixes of one request's prompt at emulated time `now`.

        Args:
            scope: what a cache is shared by (provider and model).
            blocks: the prompt's text blocks, in order.
            marks: (block index, lifetime in seconds) where the request writes prefixes.
            min_tokens: the shortest prefix the provider caches.
            lookback: how many blocks before a mark a hit may end (None: any boundary).
            granularity: reads count in whole blocks of this many tokens (OpenAI: 128).
        """
        if not marks or not blocks:
            return CacheUse()
        last, ttl = max(marks)
        tokens, keys = self._prefixes(scope, blocks[: last + 1])
        if tokens[last] < min_tokens:
            return CacheUse()
        with self._lock:
            hit = self._longest_hit(keys, tokens, marks, now, min_tokens, lookback)
            if hit is not None:
                _, lifetime = self._entries[keys[hit]]
                self._entries[keys[hit]] = (now + lifetime, lifetime)
            for index, lifetime in marks:
                if tokens[index] >= min_tokens:
                    expires, _ = self._entries.get(keys[index], (0.0, 0.0))
                    self._entries[keys[index]] = (max(expires, now + lifetime), lifetime)
        read = 0 if hit is None else tokens[hit] // granularity * granularity
        written = tokens[last] - (0 if hit is None else tokens[hit])
        return CacheUse(read, written, ttl)

    def _longest_hit(
        self,
        keys: list[bytes],
        tokens: list[int],
        marks: Sequence[tuple[int, float]],
        now: float,
        min_tokens: int,
        lookback: int | None,
    ) -> int | None:
        """The index of the last block of the longest live cached prefix, or None."""
        candidates: set[int] = set()
        for index, _ in marks:
            first = 0 if lookback is None else max(0, index - lookback)
            candidates.update(range(first, index + 1))
        for index in sorted(candidates, reverse=True):
            entry = self._entries.get(keys[index])
            if entry is not None and entry[0] > now and tokens[index] >= min_tokens:
                return index
        return None

    @staticmethod
    def _prefixes(scope: str, blocks: Sequence[str]) -> tuple[list[int], list[bytes]]:
        """Each prefix's token count and key (a digest of the scope and its blocks)."""
        digest = hashlib.sha256(scope.encode())
        tokens, keys, chars = [], [], 0
        for block in blocks:
            data = block.encode()
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)
            chars += len(block)
            tokens.append(_tokens(chars))
            keys.append(digest.copy().digest())
        return tokens, keys


def gemini_min_tokens(model: str) -> int:
    """The shortest prefix Gemini caches implicitly: 4,096 tokens on Pro models, else 1,024."""
    return 4096 if "-pro" in model else 1024
