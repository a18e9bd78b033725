"""Keeping secrets out of every message: the one place that knows what a secret looks like.

A provider that refuses a key may echo it back ("Incorrect API key provided: sk-…"). Whatever
text comes from a provider passes through `redact` before it is logged, raised or stored, and
the SDK exception we raise `from` is scrubbed in place (`scrub_exception`), because Prefect logs
the whole cause chain and pickles failed states. Downloaded results files are rewritten
redacted too (`redact_file`): a per-request error line may echo the key as well.

Two rules, both applied everywhere:

- known secrets: every key a client was built with (`register_secret`, called by the
  adapters) and the providers' standard environment variables, whatever their shape;
- key-shaped strings: Anthropic/OpenAI `sk-…`, Google API keys `AIza…`, OAuth access
  tokens `ya29.…`, anything after `Bearer `, and `key=` query parameters.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

REDACTED = "[REDACTED]"

# The providers' standard variables (and Anthropic's token variant); read at redaction time so
# a key exported after start-up is covered too.
SECRET_ENV_VARS = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
)

# Shorter strings are not treated as known secrets: redacting every "test" would garble
# messages, and no real provider key is that short (the shapes below still apply).
_MIN_SECRET_LENGTH = 8

_KEY_SHAPES = re.compile(
    r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{8,}"  # Anthropic sk-ant-…, OpenAI sk-…, sk-proj-…
    r"|(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{20,}"  # Google API keys
    r"|(?<![A-Za-z0-9])ya29(?:\.[0-9A-Za-z_~+/=-]+)+"  # Google OAuth 2 access tokens
    r"|(?<=[Bb]earer )[A-Za-z0-9_~+/=-]+(?:\.[A-Za-z0-9_~+/=-]+)*"  # any bearer token
    r"|(?<=[?&]key=)[^&\s\"'<>]+"  # a key passed in a URL's query string
)

_lock = threading.Lock()
_registered: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember `value` as a secret to redact from every later message (the key a client is
    built with); values shorter than 8 characters are ignored."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _registered.add(value)


def known_secrets() -> list[str]:
    """The registered secrets and the set standard variables, longest first (so a key that
    contains another is replaced whole)."""
    from_env = (os.environ.get(name, "").strip() for name in SECRET_ENV_VARS)
    with _lock:
        values = _registered | {v for v in from_env if len(v) >= _MIN_SECRET_LENGTH}
    return sorted(values, key=len, reverse=True)


def redact(text: str) -> str:
    """`text` with every known secret and key-shaped string replaced by `[REDACTED]`."""
    for secret in known_secrets():
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _KEY_SHAPES.sub(REDACTED, text)


def _pattern() -> re.Pattern[str]:
    """Known secrets (longest first) and key shapes as one pattern, for streaming a file."""
    known = [re.escape(secret) for secret in known_secrets()]
    return re.compile("|".join([*known, _KEY_SHAPES.pattern]))


# A results file is read in blocks, never by line: one line may be gigabytes. A secret that
# straddles two blocks is caught because the tail of each block is looked at again with the
# next one; keys are a few hundred characters at most, so a few KB of overlap is ample.
_BLOCK = 1 << 20
_OVERLAP = 4096
# A key-shaped run longer than this is written out redacted, not held (no real key is).
_MAX_PENDING = 4 << 20


def _text_blocks(handle: IO[bytes]) -> Iterator[str]:
    """The file as text blocks; undecodable bytes survive the round trip (surrogateescape)."""
    while block := handle.read(_BLOCK):
        yield block.decode("utf-8", "surrogateescape")


def _holds_secret(path: Path, pattern: re.Pattern[str]) -> bool:
    """Whether `path` holds a match, read in overlapping blocks (bounded memory)."""
    tail = ""
    with path.open("rb") as handle:
        for block in _text_blocks(handle):
            window = tail + block
            if pattern.search(window):
                return True
            tail = window[-_OVERLAP:]
    return False


def _redacted_blocks(handle: IO[bytes], pattern: re.Pattern[str]) -> Iterator[bytes]:
    """The file's bytes with every match replaced, in bounded memory.

    Text is held back from the end of each window (`_OVERLAP`, or from the start of a match
    that runs into it) until the next block shows whether a secret continues there; the held
    text keeps some context before it, so the look-behinds of the key shapes still see it.
    """
    context = pending = ""
    for block in _text_blocks(handle):
        text = context + pending + block
        start = len(context)
        cut = max(start, len(text) - _OVERLAP)
        for match in pattern.finditer(text, start):
            if match.start() < cut < match.end():
                cut = match.start()  # a secret may go on in the next block: hold it back
                break
        if cut - start == 0 and len(text) - start > _MAX_PENDING:
            cut = len(text)
        yield _substitute(pattern, text, start, cut)
        context, pending = text[max(start, cut - _OVERLAP) : cut], text[cut:]
    yield _substitute(pattern, context + pending, len(context), len(context) + len(pending))


def _substitute(pattern: re.Pattern[str], text: str, start: int, end: int) -> bytes:
    """`text[start:end]` with every match inside it redacted (matching sees `text[:start]`)."""
    out: list[str] = []
    position = start
    for match in pattern.finditer(text, start, end):
        out += [text[position : match.start()], REDACTED]
        position = match.end()
    out.append(text[position:end])
    return "".join(out).encode("utf-8", "surrogateescape")


def redact_file(path: Path) -> bool:
    """Rewrite `path` (a downloaded results file) with secrets redacted, if it holds any.

    Read in blocks, never whole lines (a results line may be gigabytes); a clean file is left
    untouched. Returns whether it was rewritten.
    """
    from interviews.jsonl import atomic_writer

    pattern = _pattern()
    if not _holds_secret(path, pattern):
        return False
    with path.open("rb") as source, atomic_writer(path, durable=True) as out:
        for piece in _redacted_blocks(source, pattern):
            out.write(piece)
    return True


def redact_data(value: Any) -> Any:
    """A copy of JSON-like `value` (dicts, lists, tuples, strings) with every string redacted;
    other values are returned as they are."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_data(item) for item in value)
    return value


def scrub_exception(exc: BaseException) -> BaseException:
    """Redact `exc` and its whole cause/context chain in place, and return it.

    Its type, status code and the shape of its message stay, so `raise … from exc` still says
    what failed; string and JSON attributes (args, `message`, `body`, `details`, …) are
    redacted, and HTTP request/response objects (whose headers carry the key) are dropped.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    pending = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        _scrub_one(current)
        pending += [current.__cause__, current.__context__]  # type: ignore[list-item]
    return exc


def _scrub_one(exc: BaseException) -> None:
    with contextlib.suppress(AttributeError, TypeError):  # exotic exception types
        exc.args = tuple(redact_data(arg) for arg in exc.args)
    for name, value in list(getattr(exc, "__dict__", {}).items()):
        if name.startswith("__"):
            continue
        try:
            if hasattr(value, "headers") and not isinstance(value, dict | str):
                setattr(exc, name, None)  # an HTTP request or response: the key is in there
            elif isinstance(value, str | dict | list | tuple):
                setattr(exc, name, redact_data(value))
        except (AttributeError, TypeError):  # read-only attribute: leave it
            continue


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's message and formatted traceback.

    Defence in depth for handlers (console, Prefect's API log handler): the pipeline already
    redacts at the source, this catches whatever a library logs on its own.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_FILTER = RedactingFilter()


def install_log_redaction() -> None:
    """Add the redacting filter to every handler configured now (root, `prefect.*`,
    `interviews.*`); calling it again adds nothing twice."""
    loggers = [logging.getLogger()] + [
        item
        for item in logging.Logger.manager.loggerDict.values()
        if isinstance(item, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
