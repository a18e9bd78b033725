"""Prompt templates: persona + health record → system message and first question.

Templates are Jinja2 with `StrictUndefined`, so a template that names a field a record lacks is
a clear error instead of a silently empty prompt. The defaults (in `interviews/templates/`) render
every field of the persona and the health record, whatever their shape, so they suit any input.
Templates see `persona`, `health_record` and `persona_id`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from interviews.errors import InputError
from interviews.personas import PersonaRecord

DEFAULT_SYSTEM_TEMPLATE = "system_message.j2"
DEFAULT_QUESTION_TEMPLATE = "first_question.j2"


# Keys that name the thing an object describes; such an object reads "Metformin (dose: ...)".
_HEAD_KEYS = frozenset({"name", "substance", "test", "date", "condition", "drug", "title"})


@lru_cache(maxsize=4096)  # the same few field names recur in every record
def label(key: Any) -> str:
    """Turn a field name into a label: `recent_encounters` → `Recent encounters`."""
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@lru_cache(maxsize=4096)
def _inline_label(key: str) -> str:
    """A field name inside a sentence: `blood_pressure` → `blood pressure`."""
    return label(key).lower()


def describe(value: Any) -> str:
    """Render any JSON value as one readable line.

    Objects become `first value (other key: value, ...)` so a condition reads
    `Type 2 diabetes (diagnosed: 2019, status: active)`; lists are joined with `; `.
    """
    if value is None:
        return "not recorded"
    if isinstance(value, dict):
        if not value:
            return "none recorded"
        items = list(value.items())
        head_key, head = items[0]
        if head_key in _HEAD_KEYS and len(items) > 1:
            rest = ", ".join(f"{_inline_label(k)}: {describe(v)}" for k, v in items[1:])
            return f"{head} ({rest})"
        return ", ".join(f"{_inline_label(k)}: {describe(v)}" for k, v in items)
    if isinstance(value, list):
        if not value:
            return "none recorded"
        return "; ".join(describe(item) for item in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _environment(loader: jinja2.BaseLoader) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # prompts are plain text, not HTML
        keep_trailing_newline=False,
    )
    env.filters["label"] = label
    env.filters["describe"] = describe
    return env


def _load(path: Path | None, default_name: str) -> tuple[jinja2.Template, str]:
    """Compile a template file, or the packaged default when `path` is None."""
    if path is None:
        source = resources.files("interviews.templates").joinpath(default_name).read_text("utf-8")
        name = f"default {default_name}"
    else:
        try:
            source = Path(path).read_text("utf-8")
        except FileNotFoundError:
            raise InputError("template file not found; check the path", path=str(path)) from None
        name = str(path)
    try:
        return _environment(jinja2.BaseLoader()).from_string(source), name
    except jinja2.TemplateSyntaxError as exc:
        raise InputError(
            f"template syntax error: {exc.message}; fix the template", path=name, line=exc.lineno
        ) from exc


@dataclass(frozen=True)
class Prompts:
    """The compiled system-message and first-question templates."""

    system: jinja2.Template
    question: jinja2.Template
    system_name: str
    question_name: str

    @classmethod
    def load(cls, system_template: Path | None = None, question_template: Path | None = None):
        """Compile the templates (packaged defaults where a path is None).

        Raises:
            InputError: a missing file or a template syntax error (names file and line).
        """
        system, system_name = _load(system_template, DEFAULT_SYSTEM_TEMPLATE)
        question, question_name = _load(question_template, DEFAULT_QUESTION_TEMPLATE)
        return cls(system, question, system_name, question_name)

    def render(self, record: PersonaRecord, *, source: str) -> tuple[str, str]:
        """Render (system_message, first_question) for one record.

        Args:
            record: the validated input record.
            source: the personas file, named in errors.

        Raises:
            InputError: the template names a field this record does not have.
        """
        context = {
            "persona": record.persona,
            "health_record": record.health_record,
            "persona_id": record.persona_id,
        }
        rendered = []
        for template, name in (
            (self.system, self.system_name),
            (self.question, self.question_name),
        ):
            try:
                text = template.render(context).strip()
            except jinja2.UndefinedError as exc:
                raise InputError(
                    f"template {name} uses a field this record does not have ({exc.message}); "
                    "add it to the record or change the template",
                    path=source,
                    line=record.line,
                ) from exc
            if not text:
                raise InputError(
                    f"template {name} rendered an empty prompt for this record; fix the template",
                    path=source,
                    line=record.line,
                )
            rendered.append(text)
        return rendered[0], rendered[1]
