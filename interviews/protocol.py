"""Interview protocols: several questions, asked in order, each with optional follow-ups.

A protocol file is YAML (`.yaml`/`.yml`) or JSON (`.json`):

    name: health check-in            # optional
    questions:
      - How has your health been lately?
      - text: Which medicines do you take, and how do they suit you?
        follow_ups:
          - What would make taking them easier?
      - What worries you most about the coming year?

A question is a string or `{text, follow_ups}`; every text is a Jinja2 template that sees the
same `persona`, `health_record` and `persona_id` as the prompt templates. The interview asks the
questions in order, each followed by its follow-ups, as one conversation: real-time mode holds
that conversation per persona, batch mode sends one batch per question carrying the
conversation so far. Without a protocol the seed's single first question is the interview.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from interviews.errors import InputError

# A protocol is a conversation, not a questionnaire: past this many turns answers drift and
# the resent conversation makes every later batch line large.
MAX_TURNS = 20


class _Question(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    follow_ups: list[str] = Field(default_factory=list)

    @field_validator("follow_ups")
    @classmethod
    def _no_empty(cls, values: list[str]) -> list[str]:
        if any(not value.strip() for value in values):
            raise ValueError("a follow-up is empty")
        return values


class _ProtocolFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    questions: list[_Question] = Field(min_length=1)

    @field_validator("questions", mode="before")
    @classmethod
    def _plain_questions(cls, values: object) -> object:
        """A question given as a plain string is a question without follow-ups."""
        if isinstance(values, list):
            return [{"text": value} if isinstance(value, str) else value for value in values]
        return values


@dataclass(frozen=True)
class Protocol:
    """A loaded protocol: its turns (each question, then its follow-ups) as template sources.

    Attributes:
        name: the protocol's name (the file name when it gives none).
        turns: the question texts in the order they are asked.
        path: the file it came from, named in errors.
        sha256: the file's digest (part of a run's spec: editing the protocol is a new run).
    """

    name: str
    turns: tuple[str, ...]
    path: str
    sha256: str


def load_protocol(path: str | Path) -> Protocol:
    """Read and check a protocol file.

    Raises:
        InputError: the file is missing, not valid YAML/JSON, or not a protocol (the message
            names the file, the line where known, and the fix).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError("protocol file not found; check the path", path=str(path)) from None
    except OSError as exc:  # a folder, no permission, ...
        raise InputError(
            f"cannot read the protocol file ({exc.strerror}); check the path", path=str(path)
        ) from None
    data = _parse(raw, path)
    try:
        parsed = _ProtocolFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(
            f"not an interview protocol: {_where(first['loc'])}: {first['msg']}. A protocol is "
            "`questions:` followed by a list of questions, each a string or "
            "`{text: ..., follow_ups: [...]}`",
            path=str(path),
        ) from None
    turns: list[str] = []
    for question in parsed.questions:
        turns.append(question.text)
        turns.extend(question.follow_ups)
    if any(not turn.strip() for turn in turns):
        raise InputError("a question is empty; give every question a text", path=str(path))
    if len(turns) > MAX_TURNS:
        raise InputError(
            f"the protocol asks {len(turns)} questions and follow-ups; at most {MAX_TURNS} fit "
            "one interview. Split it into several protocols",
            path=str(path),
        )
    return Protocol(
        name=parsed.name or path.stem,
        turns=tuple(turns),
        path=str(path),
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def _where(loc: tuple) -> str:
    """A validation error's place in words: `question 2, follow_ups` for
    ("questions", 1, "follow_ups")."""
    if len(loc) >= 2 and loc[0] == "questions" and isinstance(loc[1], int):
        return ", ".join([f"question {loc[1] + 1}", *(str(part) for part in loc[2:])])
    return ".".join(str(part) for part in loc) or "the file"


def _parse(raw: bytes, path: Path) -> object:
    """The file's data: JSON for `.json`, YAML otherwise (JSON is valid YAML too)."""
    try:
        return _parse_text(raw, path)
    except RecursionError:  # both parsers recurse per level: thousands of nested brackets
        raise InputError(
            "nested far too deeply to be a protocol; a protocol is a list of questions",
            path=str(path),
        ) from None


def _parse_text(raw: bytes, path: Path) -> object:
    if path.suffix.lower() == ".json":
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"malformed JSON ({exc.msg}); fix the protocol file",
                path=str(path),
                line=exc.lineno,
            ) from None
        except UnicodeDecodeError:
            raise InputError(
                "not UTF-8 text; save the protocol file as UTF-8", path=str(path)
            ) from None
    import yaml  # imported here: only protocol runs need it, and `--help` stays quick

    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            f"malformed YAML ({getattr(exc, 'problem', None) or exc}); fix the protocol file",
            path=str(path),
            line=mark.line + 1 if mark is not None else None,
        ) from None


def turn_run_id(run_id: str, turn: int) -> str:
    """The run id of a protocol's `turn` (1-based) in batch mode: the first question is the
    run itself, each later one its own run `{run_id}-q{turn}` (so each resumes on its own)."""
    return run_id if turn == 1 else f"{run_id}-q{turn}"
