"""Templates: defaults render any record; a missing field is a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from interviews.errors import InputError
from interviews.personas import iter_personas
from interviews.prompts import Prompts, describe
from tests.conftest import SAMPLE


def test_default_system_message_is_grounded_in_persona_and_record() -> None:
    record = next(iter_personas(SAMPLE))
    system, question = Prompts.load().render(record, source=str(SAMPLE))
    assert f"- Name: {record.persona['name']}" in system
    assert "Your health record:" in system
    first_condition = record.health_record["conditions"][0]["name"]
    assert first_condition in system
    assert "Stay in character" in system
    assert question.endswith("?")


def test_describe_renders_nested_values() -> None:
    assert describe([]) == "none recorded"
    assert describe({"name": "Metformin", "dose": "500 mg"}) == "Metformin (dose: 500 mg)"
    assert describe({"blood_pressure": "120/80"}) == "blood pressure: 120/80"


def test_template_naming_a_missing_field_names_template_file_and_line(tmp_path: Path) -> None:
    template = tmp_path / "system.j2"
    template.write_text("You are {{ persona.nickname }}.")
    record = next(iter_personas(SAMPLE))
    prompts = Prompts.load(system_template=template)
    with pytest.raises(InputError) as caught:
        prompts.render(record, source=str(SAMPLE))
    message = str(caught.value)
    assert message.startswith(f"{SAMPLE}:{record.line}: ")
    assert str(template) in message and "nickname" in message


def test_template_syntax_error_names_the_line(tmp_path: Path) -> None:
    template = tmp_path / "q.j2"
    template.write_text("Hello\n{% if %}\n")
    with pytest.raises(InputError, match=rf"{template}:2: template syntax error"):
        Prompts.load(question_template=template)
