"""Role-play quality flags: plain, documented rules that mark an answer worth a second look.

Each answered record carries `flags`, a list of zero or more of:

- `empty`: the answer has no words.
- `truncated`: the model stopped at the answer's token limit (`max_tokens`, `length`,
  `max_output_tokens`, `MAX_TOKENS`): the end of the answer is missing.
- `refusal`: the model declined to answer, e.g. "I can't help with that", "I'm sorry, but I
  cannot", "I won't role-play".
- `breaks_character`: the model spoke as itself rather than as the person, e.g. "as an AI",
  "as a language model", "I'm an AI", "I don't have a body", "I am Claude".
- `contradicts_record`: the answer contradicts the health record on a simple, checkable fact:
  an age stated as "I'm N" / "N years old" more than a year off the record's; a sex opposite to
  the record's ("as a man" for a woman); or a listed condition or medication named as absent
  ("I don't take metformin", "I've never had hypertension", "I don't have diabetes").

The rules read words, not meaning: a flag is a pointer for a person to check, not a verdict.
The facts they check travel with each request in its chunk index (`facts`, one short string,
see `record_facts`), so converting a chunk needs nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

FLAGS = ("empty", "truncated", "refusal", "breaks_character", "contradicts_record")
# What `--retry-flagged` sends again: not `truncated` (the same request stops at the same limit;
# raise --max-tokens instead)
RETRY_FLAGS = frozenset({"empty", "refusal", "breaks_character", "contradicts_record"})

# Every finish reason meaning "the answer hit its token limit", across the four providers.
_TRUNCATED = frozenset({"max_tokens", "length", "max_output_tokens", "MAX_TOKENS"})

_REFUSAL = re.compile(
    r"\b(?:I\s+(?:can(?:no|')t|cannot|won't|will\s+not|am\s+unable\s+to|'m\s+unable\s+to|"
    r"am\s+not\s+able\s+to|'m\s+not\s+able\s+to)\s+(?:help|assist|provide|comply|continue|"
    r"answer|do\s+that|role-?play|pretend|take\s+on|engage))"
    r"|\bI(?:'m| am)\s+(?:sorry|afraid),?\s+(?:but\s+)?I\s+(?:can(?:no|')t|cannot|won't)",
    re.IGNORECASE,
)
_BREAKS_CHARACTER = re.compile(
    r"\bas\s+an\s+AI\b|\bas\s+a\s+(?:large\s+)?language\s+model\b|\bI(?:'m| am)\s+an?\s+"
    r"(?:AI|artificial\s+intelligence|language\s+model|chatbot|virtual\s+assistant)\b"
    r"|\bI\s+(?:don't|do\s+not)\s+have\s+(?:a\s+(?:physical\s+)?body|personal\s+experiences?|"
    r"a\s+health\s+record|feelings)\b|\bI(?:'m| am)\s+(?:Claude|ChatGPT|Gemini|GPT)\b",
    re.IGNORECASE,
)
_AGE = re.compile(
    r"\bI(?:'m| am)\s+(\d{1,3})(?:\s+years?\s+old)?\b(?!\s*(?:%|percent|times|kg|lb|pounds|"
    r"minutes|hours|days|weeks|months))|\b(?:turned|I'm\s+now)\s+(\d{1,3})\b",
    re.IGNORECASE,
)
_SEX_STATED = {
    "female": re.compile(r"\b(?:as\s+a|I(?:'m| am)\s+a)\s+(?:man|male|guy|gentleman)\b", re.I),
    "male": re.compile(r"\b(?:as\s+a|I(?:'m| am)\s+a)\s+(?:woman|female|lady)\b", re.I),
}
# "I don't have diabetes", "I do not take metformin", "I never take insulin", "I've never had
# hypertension", "I have never been diagnosed with asthma" (not "I didn't take my metformin
# today": a missed dose is not an absent medicine)
_DENIAL = (
    r"\bI\s+(?:don't|do\s+not|never)\s+(?:have|take|use)\s+(?:any\s+)?{name}\b"
    r"|\bI(?:'ve|\s+have)\s+never\s+(?:had|taken|used|been\s+(?:diagnosed\s+with|on|"
    r"prescribed))\s+(?:any\s+)?{name}\b"
)
_FIELD_SEPARATOR, _ITEM_SEPARATOR = "|", ";"


def record_facts(persona: dict[str, Any], health_record: dict[str, Any]) -> str:
    """The checkable facts of one person as one short string (kept per request in the chunk
    index): `age|sex|condition;condition|medication;medication`, names lowercased."""
    age = persona.get("age")
    sex = str(persona.get("sex") or persona.get("gender") or "").lower()
    sex = sex if sex in ("female", "male") else ""
    conditions = _names(health_record.get("conditions"))
    medications = _names(health_record.get("medications"))
    fields = [
        str(age) if isinstance(age, int) and not isinstance(age, bool) else "",
        sex,
        _ITEM_SEPARATOR.join(conditions),
        _ITEM_SEPARATOR.join(medications),
    ]
    return _FIELD_SEPARATOR.join(fields) if any(fields) else ""


def _names(items: Any) -> list[str]:
    """Lowercased names of listed conditions or medications (`{"name": ...}` or strings)."""
    names = []
    for item in items if isinstance(items, list) else ():
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name.strip():
            clean = (
                name.strip().lower().replace(_FIELD_SEPARATOR, " ").replace(_ITEM_SEPARATOR, " ")
            )
            names.append(clean)
    return names


def answer_flags(text: str | None, finish_reason: str | None, facts: str | None) -> list[str]:
    """The flags of one answer (see the module docstring), in `FLAGS` order."""
    answer = text or ""
    found = []
    if not answer.strip():
        found.append("empty")
    if finish_reason in _TRUNCATED:
        found.append("truncated")
    if _REFUSAL.search(answer):
        found.append("refusal")
    if _BREAKS_CHARACTER.search(answer):
        found.append("breaks_character")
    if facts and answer and _contradicts(answer, facts):
        found.append("contradicts_record")
    return found


def _contradicts(answer: str, facts: str) -> bool:
    """Whether `answer` contradicts the facts `record_facts` wrote."""
    age, sex, conditions, medications = [*facts.split(_FIELD_SEPARATOR), "", "", "", ""][:4]
    if age.isdigit():
        for match in _AGE.finditer(answer):
            stated = int(match.group(1) or match.group(2))
            if 10 <= stated <= 120 and abs(stated - int(age)) > 1:
                return True
    if sex in _SEX_STATED and _SEX_STATED[sex].search(answer):
        return True
    return any(_denied(answer, name) for name in _checkable(conditions, medications))


def _checkable(conditions: str, medications: str) -> Iterable[str]:
    """The names to look for: each medication's first word (its drug name), and each
    condition's name, also without `type N`, `mellitus` or `essential` (so `type 2 diabetes
    mellitus` is found as `diabetes`, `essential hypertension` as `hypertension`)."""
    for name in medications.split(_ITEM_SEPARATOR):
        if name:
            yield name.split()[0]
    for name in conditions.split(_ITEM_SEPARATOR):
        if name:
            yield name
            words = [w for w in name.split() if w not in ("type", "mellitus", "essential")]
            short = " ".join(w for w in words if not w.isdigit())
            if short and short != name:
                yield short


def _denied(answer: str, name: str) -> bool:
    """Whether `answer` says the person does not have or take `name`."""
    pattern = _DENIAL.format(name=re.escape(name))
    return re.search(pattern, answer, re.IGNORECASE) is not None
