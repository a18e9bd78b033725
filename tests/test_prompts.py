"""Templates: defaults render any record; a missing field is a clear error."""

from __future__ import annotations

import random
from collections import OrderedDict
from pathlib import Path

import orjson
import pytest

from interviews.errors import InputError
from interviews.personas import PersonaRecord, iter_personas
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


# --- The plain (Jinja-free) rendering paths render exactly what Jinja renders ---------------

EXPECTED_SAMPLE_PROMPTS = Path(__file__).parent / "expected" / "sample_prompts.jsonl"
_HEAD_KEYS = ("name", "substance", "test", "date", "condition", "drug", "title")


def reference_describe(value: object) -> str:
    """The original, obviously-correct describe: the specification of the fast one."""
    if value is None:
        return "not recorded"
    if isinstance(value, dict):
        if not value:
            return "none recorded"
        items = list(value.items())
        head_key, head = items[0]

        def inline(key: object) -> str:
            text = str(key).replace("_", " ").strip()
            return (text[:1].upper() + text[1:]).lower()

        if head_key in _HEAD_KEYS and len(items) > 1:
            rest = ", ".join(f"{inline(k)}: {reference_describe(v)}" for k, v in items[1:])
            return f"{head} ({rest})"
        return ", ".join(f"{inline(k)}: {reference_describe(v)}" for k, v in items)
    if isinstance(value, list):
        if not value:
            return "none recorded"
        return "; ".join(reference_describe(item) for item in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def random_value(rng: random.Random, depth: int = 0) -> object:
    """A random JSON value: every leaf type, empty and nested containers, head keys."""
    kinds = ["str", "int", "float", "bool", "none"] + (["list", "dict"] * 2 if depth < 3 else [])
    kind = rng.choice(kinds)
    if kind == "str":
        return rng.choice(["", " padded ", "Metformin", "{braces}", "µg/L", "a_b"])
    if kind == "int":
        return rng.choice([0, 1, -3, 10**20])
    if kind == "float":
        return rng.choice([0.5, -1.25, 1e-7, 3.0])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "none":
        return None
    if kind == "list":
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    keys = [*_HEAD_KEYS, "dose", "blood_pressure", "_x_", "", "Already Upper", "notes"]
    return {rng.choice(keys): random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def random_record(rng: random.Random, line: int) -> PersonaRecord:
    def obj() -> dict:
        value = random_value(rng, depth=1)
        return value if isinstance(value, dict) else {"field": value}

    return PersonaRecord(line, obj(), obj(), line - 1, line)


def jinja_render(prompts: Prompts, record: PersonaRecord) -> tuple[str, str]:
    """What Jinja alone renders (the reference for the plain paths)."""
    context = {
        "persona": record.persona,
        "health_record": record.health_record,
        "persona_id": record.persona_id,
    }
    return prompts.system.render(context).strip(), prompts.question.render(context).strip()


def test_describe_matches_the_reference_on_random_json() -> None:
    rng = random.Random(11)
    values = [random_value(rng) for _ in range(3000)]
    values += [True, False, None, 0, 1.5, "", [], {}, [[]], {"name": "x"}, {"name": {"a": 1}}]
    for value in values:
        assert describe(value) == reference_describe(value), value


def test_describe_handles_types_beyond_json() -> None:
    values = [OrderedDict(name="Aspirin", dose=True), (1, 2), {1: "int key"}, Path("p")]
    for value in values:
        assert describe(value) == reference_describe(value)


def test_default_templates_render_like_jinja_on_random_records() -> None:
    prompts = Prompts.load()
    rng = random.Random(5)
    records = [random_record(rng, line) for line in range(1, 301)]
    records += list(iter_personas(SAMPLE))
    for record in records:
        assert prompts.render(record, source="s") == jinja_render(prompts, record)


def test_default_templates_take_the_plain_path() -> None:
    prompts = Prompts.load()
    assert prompts._system.pieces is not None and prompts._question.pieces is not None


def test_default_prompts_for_the_sample_are_unchanged() -> None:
    """The sample's prompts, as committed before the plain paths existed."""
    prompts = Prompts.load()
    expected = [orjson.loads(line) for line in EXPECTED_SAMPLE_PROMPTS.read_bytes().splitlines()]
    records = list(iter_personas(SAMPLE))
    assert len(expected) == len(records) == 24
    for record, want in zip(records, expected, strict=True):
        system, question = prompts.render(record, source="s")
        assert record.custom_id == want["custom_id"]
        assert system == want["system_message"]
        assert question == want["first_question"]


@pytest.mark.parametrize(
    ("source", "plain"),
    [
        ("Hi {x} }}{ there\n\n", True),
        (
            (
                "A {literal}\n{% for k, v in persona.items() -%}\n"
                "* {{ k | label }} = {{ v | describe }} {{ k | label }}\n{% endfor %}\n"
                "End {% for a, b in health_record.items() %}{x}[{{ b | describe }}]}{% endfor %}"
            ),
            True,
        ),
        ("{% for k, v in persona.items() %}{{ k|label }}{% endfor %}", True),
        ("{{ persona_id }}: {% for k, v in persona.items() %}{{ k }}{% endfor %}", False),
        ("{% for k, v in persona.items() %}{{ k|describe }}{% endfor %}", False),
        ("{% for k, v in persona.items() %}{{ loop.index }}{% endfor %}", False),
        ("{% for k, v in persona.items() %}x{% else %}empty{% endfor %}", False),
        ("{% for k in persona %}{{ k }}{% endfor %}", False),
        ("{% if persona %}yes{% endif %}", False),
        ("{{ persona.name | default('someone') }}", False),
        ("{{ '{' }} {{ range(3) | list | length }}", False),
    ],
)
def test_user_templates_render_like_jinja_on_either_path(
    tmp_path: Path, source: str, plain: bool
) -> None:
    template = tmp_path / "t.j2"
    template.write_text(source)
    prompts = Prompts.load(system_template=template, question_template=template)
    assert (prompts._system.pieces is not None) is plain
    rng = random.Random(3)
    for record in [random_record(rng, line) for line in range(1, 101)]:
        record = PersonaRecord(1, {"name": "Ann", **record.persona}, record.health_record, 0, 1)
        assert prompts.render(record, source="s") == jinja_render(prompts, record)


def test_a_template_that_renders_nothing_names_the_line(tmp_path: Path) -> None:
    template = tmp_path / "q.j2"
    template.write_text("  \n")
    record = list(iter_personas(SAMPLE))[2]
    prompts = Prompts.load(question_template=template)
    with pytest.raises(InputError, match=rf"{SAMPLE}:3: template {template} rendered an empty"):
        prompts.render(record, source=str(SAMPLE))
