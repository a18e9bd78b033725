"""Persona-flavoured answers: parsing, determinism and shape."""

import re
from pathlib import Path

import orjson

from interviews.emulator.answers import approx_tokens, compose_answer, parse_persona
from interviews.personas import PersonaRecord
from interviews.prompts import Prompts
from tests.emulator.builders import system_prompt


def _sentences(text: str) -> int:
    return len(re.findall(r"[.!?](?:\s|$)", text))


def test_template_fields_are_parsed() -> None:
    persona = parse_persona(system_prompt(0))
    assert persona.name == "Maria Lopez" and persona.age == "60"
    assert persona.conditions == ["Type 2 diabetes", "Hypertension"]
    assert persona.medications == ["Metformin 1000 mg twice daily", "Lisinopril 10 mg daily"]
    assert persona.allergies == ["Penicillin"]
    assert persona.occupation == "Retired school teacher"


def test_free_text_and_empty_systems_are_tolerated() -> None:
    assert parse_persona("You are Bob Smith, a 45-year-old mechanic.").name == "Bob Smith"
    assert parse_persona("").name is None
    assert parse_persona("- Allergies: None known").allergies == []
    assert 3 <= _sentences(compose_answer("", "Anything?", "x")) <= 6


def test_answer_mentions_the_persona_and_the_topic() -> None:
    answer = compose_answer(system_prompt(0), "How well do you sleep at night?", "interview_0")
    assert "Maria Lopez" in answer and "60" in answer
    assert "diabetes" in answer and "metformin" in answer
    assert "sleep" in answer
    assert 3 <= _sentences(answer) <= 6


def test_answers_are_deterministic_and_vary_by_request() -> None:
    system, question = system_prompt(1), "What do you eat on a normal day?"
    assert compose_answer(system, question, "a") == compose_answer(system, question, "a")
    variants = {compose_answer(system, question, f"id_{i}") for i in range(10)}
    assert len(variants) > 3


def test_token_estimate_rounds_up() -> None:
    assert [approx_tokens("x" * n) for n in (0, 1, 4, 5)] == [0, 1, 1, 2]


def test_the_projects_own_template_is_understood() -> None:
    """Guards against drift between `interviews/templates/system_message.j2` and the parser."""
    root = Path(__file__).resolve().parents[2]
    first = orjson.loads((root / "data/sample/matched_personas.jsonl").read_bytes().splitlines()[0])
    record = PersonaRecord(
        persona_id=0,
        persona=first["persona"],
        health_record=first["health_record"],
        index=0,
        line=1,
    )
    system, question = Prompts.load().render(record, source="sample")
    persona = parse_persona(system)
    assert persona.name == first["persona"]["name"]
    assert persona.age == str(first["persona"]["age"])
    assert persona.conditions and persona.medications
    assert persona.name in compose_answer(system, question, "interview_0")
