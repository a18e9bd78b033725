"""Canonical request lines: the seed guide's batch request file format.

Each line is `{"custom_id", "persona_id", "persona", "health_record", "system_message",
"first_question"}`; provider adapters turn a line into their own wire format.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from interviews.errors import InputError
from interviews.jsonl import iter_jsonl
from interviews.personas import CUSTOM_ID_MAX, PersonaRecord
from interviews.prompts import Prompts

# One id valid for every provider (see CUSTOM_ID_MAX).
CUSTOM_ID_PATTERN = re.compile(rf"^[a-z0-9_-]{{1,{CUSTOM_ID_MAX}}}$")
CANONICAL_FIELDS = (
    "custom_id",
    "persona_id",
    "persona",
    "health_record",
    "system_message",
    "first_question",
)


@dataclass(frozen=True, slots=True)
class CanonicalRequest:
    """One interview request in the seed's format."""

    custom_id: str
    persona_id: int | str
    persona: dict[str, Any]
    health_record: dict[str, Any]
    system_message: str
    first_question: str
    # an interview protocol's questions after the first (not part of the seed's file format:
    # they travel in the chunk index, see `chunking.write_chunks`)
    later_questions: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The JSON line form, fields in the seed's order (CANONICAL_FIELDS)."""
        return {
            "custom_id": self.custom_id,
            "persona_id": self.persona_id,
            "persona": self.persona,
            "health_record": self.health_record,
            "system_message": self.system_message,
            "first_question": self.first_question,
        }


def build_requests(
    records: Iterable[PersonaRecord], prompts: Prompts, *, source: str
) -> Iterator[CanonicalRequest]:
    """Render prompts for each record and yield its canonical request.

    Raises:
        InputError: a template names a field a record lacks (names the file and line).
    """
    for record in records:
        system_message, first_question = prompts.render(record, source=source)
        yield CanonicalRequest(
            custom_id=record.custom_id,
            persona_id=record.persona_id,
            persona=record.persona,
            health_record=record.health_record,
            system_message=system_message,
            first_question=first_question,
            later_questions=prompts.render_later(record, source=source),
        )


def request_file_path(
    requests_dir: Path,
    provider: str,
    when: datetime,
    claim: Callable[[Path], bool] | None = None,
) -> Path:
    """Reserve `batch_request_{provider}_{YYYYmmdd_HHMMSS}.jsonl` (`…_2.jsonl`, … if taken).

    The name is claimed by creating the file, empty, exclusively: two processes preparing in
    the same second never get the same name. The writer replaces it atomically when done.
    `claim` also claims the name where else it must be free (a data directory's bucket, which
    other machines write to); it returns False if the name is taken there.
    """
    requests_dir.mkdir(parents=True, exist_ok=True)
    stem = f"batch_request_{provider}_{when:%Y%m%d_%H%M%S}"
    suffix = 1
    while True:
        path = requests_dir / (f"{stem}.jsonl" if suffix == 1 else f"{stem}_{suffix}.jsonl")
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            suffix += 1
            continue
        if claim is not None and not claim(path):
            suffix += 1  # taken in the bucket; the empty local file marks it taken here too
            continue
        return path


def read_requests(path: Path) -> Iterator[CanonicalRequest]:
    """Stream a canonical request file back, validating each line.

    Raises:
        InputError: naming the file and line for malformed JSON, missing fields or a custom id
            that is not valid for every provider.
    """
    try:
        for number, value in iter_jsonl(path):
            if not isinstance(value, dict):
                raise InputError("expected a JSON object", path=str(path), line=number)
            missing = [name for name in CANONICAL_FIELDS if name not in value]
            if missing:
                raise InputError(
                    f"missing field(s) {', '.join(missing)}; regenerate the file with "
                    "`interviews prepare`",
                    path=str(path),
                    line=number,
                )
            custom_id = value["custom_id"]
            # fullmatch: `$` alone would let "id\n" through, and the id names a record file
            if not isinstance(custom_id, str) or not CUSTOM_ID_PATTERN.fullmatch(custom_id):
                raise InputError(
                    f"custom_id {custom_id!r} must match {CUSTOM_ID_PATTERN.pattern}",
                    path=str(path),
                    line=number,
                )
            yield CanonicalRequest(**{name: value[name] for name in CANONICAL_FIELDS})
    except FileNotFoundError:
        raise InputError("request file not found", path=str(path)) from None
