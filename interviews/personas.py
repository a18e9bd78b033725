"""Matched-personas input: load, validate and select records.

A matched-personas file is JSONL (one object per line) or a JSON array of objects. Each record is
`{"persona_id"?: int | str, "persona": {...}, "health_record": {...}}`; `persona_id` defaults to
the record's 0-based index in the file (the seed guide: "Index in the matched personas file").
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from interviews.errors import InputError

CUSTOM_ID_PREFIX = "interview_"
# One id valid for every provider: Vertex labels are the strictest alphabet (lowercase), and an
# Anthropic id (at most 64) carries a 9-character ownership tag (`-` and 8 capitals, see
# `interviews.providers.anthropic_batches`), which leaves 55.
CUSTOM_ID_MAX = 55
# custom ids must match ^[a-z0-9_-]{1,55}$ for every provider (see CUSTOM_ID_MAX), so a string
# persona id may use at most 55 - len("interview_") of those characters.
_MAX_ID_CHARS = CUSTOM_ID_MAX - len(CUSTOM_ID_PREFIX)
_STRING_ID = re.compile(rf"^[a-z0-9_-]{{1,{_MAX_ID_CHARS}}}$")


@dataclass(frozen=True, slots=True)
class PersonaRecord:
    """One validated input record.

    Attributes:
        persona_id: the record's id (int or lowercase string).
        persona: who the person is (free-form object).
        health_record: their matched synthetic health record (free-form object).
        index: 0-based position of the record in the file.
        line: 1-based line (JSONL) or element number (JSON array) for error messages.
    """

    persona_id: int | str
    persona: dict[str, Any]
    health_record: dict[str, Any]
    index: int
    line: int

    @property
    def custom_id(self) -> str:
        """The seed's request id, `interview_{persona_id}`, valid for every provider."""
        return f"{CUSTOM_ID_PREFIX}{self.persona_id}"


# Limits on one input record. Health records are nested (FHIR-like bundles run 10-15 levels
# deep), but nothing real comes near 64 levels, and past a few hundred the prompt renderer
# and orjson (255 levels when writing, 1024 when reading) fail with tracebacks.
MAX_DEPTH = 64
# One record's line: far above any model's context window (a few MB of text), far below what
# would exhaust memory (a line is read whole before it is parsed).
MAX_RECORD_BYTES = 16 << 20
# A JSON array is read and parsed whole (about 5x its size in memory): larger inputs must be
# JSONL, which streams.
MAX_ARRAY_BYTES = 512 << 20


def _raw_records(path: Path) -> Iterator[tuple[int, Any]]:
    """Yield (line-or-element number, parsed JSON value) for a JSONL file or a JSON array.

    Raises:
        InputError: the file cannot be read, a line is not JSON, or a record is nested deeper
            than MAX_DEPTH or is larger than MAX_RECORD_BYTES (JSONL) / the array file larger
            than MAX_ARRAY_BYTES.
    """
    try:
        handle = path.open("rb")
        head = handle.read(4096).lstrip()
    except FileNotFoundError:
        raise InputError(
            "file not found; pass the path of a matched-personas JSONL or JSON file", path=str(path)
        ) from None
    except OSError as exc:  # a folder, no permission, ...
        raise InputError(
            f"cannot read the file ({exc.strerror}); pass a readable matched-personas JSONL or "
            "JSON file",
            path=str(path),
        ) from None
    with handle:
        handle.seek(0)
        if head.startswith(b"["):
            yield from _array_records(handle, path)
            return
        number = 0
        while raw := handle.readline(MAX_RECORD_BYTES + 1):
            number += 1
            if len(raw) > MAX_RECORD_BYTES:
                raise InputError(
                    f"record is larger than {MAX_RECORD_BYTES >> 20} MB; shorten it (a prompt "
                    "must fit a model's context window)",
                    path=str(path),
                    line=number,
                )
            if not raw.strip():
                continue
            try:
                value = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                if _too_deep_text(raw):
                    raise _nesting_error(path, number) from None
                raise InputError(
                    f"malformed JSON ({exc}); each line must be one complete JSON object",
                    path=str(path),
                    line=number,
                ) from exc
            # Nesting is at most the count of brackets: most records are cleared by that
            # count alone, and only bracket-rich ones are walked.
            if raw.count(b"{") + raw.count(b"[") > MAX_DEPTH and _too_deep(value):
                raise _nesting_error(path, number)
            yield number, value


def _array_records(handle: IO[bytes], path: Path) -> Iterator[tuple[int, Any]]:
    """Yield (element number, value) for a JSON array file, checked like JSONL lines."""
    size = os.fstat(handle.fileno()).st_size
    if size > MAX_ARRAY_BYTES:
        raise InputError(
            f"JSON array file of {size >> 20} MB; above {MAX_ARRAY_BYTES >> 20} MB convert it to "
            "JSONL (one record per line), which is read as a stream",
            path=str(path),
        )
    raw = handle.read()
    try:
        values = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if _too_deep_text(raw):
            raise _nesting_error(path, None) from None
        raise InputError(
            f"not valid JSON ({exc}); fix the file or convert it to JSONL",
            path=str(path),
        ) from exc
    for number, value in enumerate(values, start=1):
        if _too_deep(value):
            raise _nesting_error(path, number)
        yield number, value


def _too_deep(value: Any) -> bool:
    """Whether objects and arrays nest more than MAX_DEPTH levels in `value` (a parsed
    record; the record itself is level 1). Level by level, without recursion."""
    level = [value] if type(value) in (dict, list) else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            return True
        level = [
            child
            for parent in level
            for child in (parent.values() if type(parent) is dict else parent)
            if type(child) in (dict, list)
        ]
    return False


def _too_deep_text(raw: bytes) -> bool:
    """Whether JSON text that orjson refused could be nested too deep (orjson stops at 1024
    levels with its own error): counted on the brackets, ignoring any inside strings only
    approximately, which is enough to tell "nested too deep" from other malformed text."""
    depth = deepest = 0
    for byte in raw.translate(None, _NOT_BRACKETS):
        depth += 1 if byte in _OPENERS else -1
        deepest = max(deepest, depth)
        if deepest > 1024:
            return True
    return False


_OPENERS = b"{["
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"{}[]")


def _nesting_error(path: Path, line: int | None) -> InputError:
    return InputError(
        f"record nests objects or lists more than {MAX_DEPTH} levels deep; flatten it "
        f"(at most {MAX_DEPTH} levels)",
        path=str(path),
        line=line,
    )


def _check_id(value: Any, path: Path, line: int) -> int | str:
    """Validate a persona_id so that `interview_{id}` is a valid custom id everywhere."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InputError(
            f"persona_id must be a non-negative integer or a string, not {value!r}",
            path=str(path),
            line=line,
        )
    if isinstance(value, int):
        if value < 0:
            raise InputError(
                f"persona_id {value} is negative; use a non-negative integer",
                path=str(path),
                line=line,
            )
        return value
    if not _STRING_ID.match(value):
        raise InputError(
            f"persona_id {value!r} must be 1-{_MAX_ID_CHARS} characters of a-z, 0-9, '_' or '-' "
            "(it becomes the provider request id); rename it",
            path=str(path),
            line=line,
        )
    return value


def iter_personas(path: Path | str) -> Iterator[PersonaRecord]:
    """Stream every record of a matched-personas file, validating each one.

    Raises:
        InputError: naming the file and line for malformed JSON, a record that is not an
            object, a missing or non-object `persona`/`health_record`, a bad or duplicate
            `persona_id`, or an empty file.
    """
    path = Path(path)
    seen: set[str] = set()
    index = -1
    for index, (line, value) in enumerate(_raw_records(path)):
        # The usual record passes three exact-type tests; anything else gets the full checks,
        # which name what is wrong.
        if not (
            type(value) is dict
            and type(value.get("persona")) is dict
            and type(value.get("health_record")) is dict
        ):
            _check_shape(value, path, line)
        persona_id = value.get("persona_id", index)
        if not (type(persona_id) is int and persona_id >= 0):
            persona_id = _check_id(persona_id, path, line)
        key = str(persona_id)  # 7 and "7" give the same custom id, so they clash too
        if key in seen:
            raise InputError(
                f"duplicate persona_id {persona_id!r} (first seen at line "
                f"{_first_line(path, key)}); persona ids must be unique",
                path=str(path),
                line=line,
            )
        seen.add(key)  # a set of ids, not ids → lines: a million ids must stay small
        yield PersonaRecord(persona_id, value["persona"], value["health_record"], index, line)
    if index < 0:
        raise InputError(
            "no records; the file must hold at least one persona record", path=str(path)
        )


def _check_shape(value: Any, path: Path, line: int) -> None:
    """Raise the InputError that says how `value` is not `{"persona": {}, "health_record": {}}`."""
    if not isinstance(value, dict):
        raise InputError(
            f"expected a JSON object with persona and health_record, got {type(value).__name__}",
            path=str(path),
            line=line,
        )
    for field in ("persona", "health_record"):
        if field not in value:
            raise InputError(
                f"record has no {field!r}; every record needs 'persona' and 'health_record'",
                path=str(path),
                line=line,
            )
        if not isinstance(value[field], dict):
            raise InputError(
                f"{field!r} must be a JSON object, got {type(value[field]).__name__}",
                path=str(path),
                line=line,
            )


def _first_line(path: Path, key: str) -> int:
    """The line of the first record whose persona id is `key` (only read again on error)."""
    for index, (line, value) in enumerate(_raw_records(path)):
        if str(value.get("persona_id", index)) == key:
            return line
    raise AssertionError(f"persona id {key} vanished from {path}")  # the file changed under us


def select_personas(
    path: Path | str, *, count: int | None = None, start_index: int = 0
) -> Iterator[PersonaRecord]:
    """Validate the whole file and yield the records `[start_index, start_index + count)`.

    Every record is validated (duplicates anywhere in the file are an error), so a later slice
    of the same file is never run on a file that was only partly valid.

    Raises:
        InputError: for any invalid record, a negative count or start index, or a slice that
            reaches past the end of the file.
    """
    if start_index < 0:
        raise InputError(f"--start-index must be >= 0, got {start_index}")
    if count is not None and count < 1:
        raise InputError(f"--count must be >= 1, got {count}")
    total = 0
    stop = None if count is None else start_index + count
    for record in iter_personas(path):
        total += 1
        if record.index >= start_index and (stop is None or record.index < stop):
            yield record
    if start_index >= total or (stop is not None and stop > total):
        wanted = "all records" if count is None else f"{count} records"
        raise InputError(
            f"asks for {wanted} from index {start_index}, but the file has {total}; "
            "lower --count or --start-index",
            path=str(path),
        )
