"""Synthetic matched personas: the shipped sample file and the streaming generator."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from interviews.sample_data import iter_sample_personas, write_sample_personas

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "matched_personas.jsonl"

PERSONA_KEYS = {
    "name",
    "age",
    "gender",
    "occupation",
    "location",
    "background",
    "living_situation",
    "education",
    "communication_style",
    "health_literacy",
    "concerns",
}
RECORD_KEYS = {
    "conditions",
    "medications",
    "allergies",
    "vitals",
    "labs",
    "recent_encounters",
    "social_history",
}
VITALS_KEYS = {"blood_pressure", "heart_rate", "bmi", "weight_kg", "height_cm", "recorded"}


def _as_bytes(records: Iterator[dict]) -> bytes:
    return b"".join(orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE) for r in records)


def _check_record_shape(record: dict) -> None:
    """The keys both the hand-written file and the generator promise."""
    assert isinstance(record["persona_id"], int)
    persona, health = record["persona"], record["health_record"]
    assert isinstance(persona, dict)
    assert isinstance(health, dict)
    assert persona.keys() >= PERSONA_KEYS
    assert health.keys() >= RECORD_KEYS
    assert persona["name"].strip()
    assert isinstance(persona["age"], int)
    assert 18 <= persona["age"] <= 100
    assert persona["health_literacy"] in {"low", "moderate", "high"}
    assert health["vitals"].keys() >= VITALS_KEYS
    for medication in health["medications"]:
        assert {"name", "dose", "frequency", "purpose"} <= medication.keys()
    for condition in health["conditions"]:
        assert {"name", "diagnosed", "status"} <= condition.keys()
    # Encounters are listed oldest first and fall in the synthetic window.
    dates = [e["date"] for e in health["recent_encounters"]]
    assert dates == sorted(dates)
    assert all("2024-01-01" <= d <= "2026-12-31" for d in dates)


# --- the shipped sample file -----------------------------------------------------------------


def _sample_records() -> list[dict]:
    with SAMPLE.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def test_sample_file_has_enough_unique_people() -> None:
    records = _sample_records()
    assert len(records) >= 20
    ids = [r["persona_id"] for r in records]
    assert ids == list(range(len(records)))
    assert len({r["persona"]["name"] for r in records}) == len(records)


def test_sample_file_records_are_complete() -> None:
    for record in _sample_records():
        _check_record_shape(record)
        assert record["health_record"]["recent_encounters"]


def test_sample_file_is_varied() -> None:
    personas = [r["persona"] for r in _sample_records()]
    ages = [p["age"] for p in personas]
    assert min(ages) < 25
    assert max(ages) > 85
    assert len({p["gender"] for p in personas}) >= 3
    assert {p["health_literacy"] for p in personas} == {"low", "moderate", "high"}
    assert any(not r["health_record"]["allergies"] for r in _sample_records())


def test_sample_file_bmi_matches_height_and_weight() -> None:
    for record in _sample_records():
        vitals = record["health_record"]["vitals"]
        bmi = vitals["weight_kg"] / (vitals["height_cm"] / 100) ** 2
        assert abs(bmi - vitals["bmi"]) < 0.1, record["persona"]["name"]


# --- the generator ---------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes() -> None:
    assert _as_bytes(iter_sample_personas(300, seed=11)) == _as_bytes(
        iter_sample_personas(300, seed=11)
    )


def test_different_seeds_differ() -> None:
    assert _as_bytes(iter_sample_personas(50, seed=1)) != _as_bytes(
        iter_sample_personas(50, seed=2)
    )


def test_generator_leaves_global_random_state_alone() -> None:
    random.seed(1234)
    before = random.getstate()
    list(iter_sample_personas(20, seed=5))
    assert random.getstate() == before


@pytest.mark.parametrize("count", [0, 1, 37])
def test_count_is_honoured(count: int) -> None:
    assert sum(1 for _ in iter_sample_personas(count)) == count


def test_negative_count_is_rejected_before_anything_happens(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="count"):
        iter_sample_personas(-1)
    out = tmp_path / "never.jsonl"
    with pytest.raises(ValueError, match="count"):
        write_sample_personas(out, -5)
    assert not out.exists()


def test_records_have_unique_int_ids_from_start_id() -> None:
    records = list(iter_sample_personas(500, seed=3, start_id=1000))
    assert [r["persona_id"] for r in records] == list(range(1000, 1500))
    for record in records:
        _check_record_shape(record)


def test_start_id_only_changes_ids() -> None:
    plain = list(iter_sample_personas(20, seed=9))
    shifted = list(iter_sample_personas(20, seed=9, start_id=50))
    for a, b in zip(plain, shifted, strict=True):
        assert b["persona_id"] == a["persona_id"] + 50
        assert (a["persona"], a["health_record"]) == (b["persona"], b["health_record"])


def test_generated_people_are_clinically_coherent() -> None:
    for record in iter_sample_personas(3000, seed=4):
        persona, health = record["persona"], record["health_record"]
        names = [c["name"] for c in health["conditions"]]
        meds = [m["name"] for m in health["medications"]]
        assert len(meds) == len(set(meds))
        tests = [lab["test"] for lab in health["labs"]]
        assert len(tests) == len(set(tests))
        if any(n.startswith("Pregnancy") for n in names):
            assert persona["gender"] == "female"
            assert persona["age"] <= 44
            assert not {"Lisinopril", "Atorvastatin", "Methotrexate"} & set(meds)
        assert not ("Type 1 diabetes mellitus" in names and "Type 2 diabetes mellitus" in names)
        # No two drugs that block the renin-angiotensin system at once.
        assert not ({"Lisinopril", "Sacubitril/valsartan"} <= set(meds))
        vitals = health["vitals"]
        bmi = vitals["weight_kg"] / (vitals["height_cm"] / 100) ** 2
        assert abs(bmi - vitals["bmi"]) < 0.1
        assert vitals["recorded"] == health["recent_encounters"][-1]["date"]


def test_generator_is_lazy() -> None:
    # A billion records would not fit in memory: only a lazy generator can return at once.
    records = iter_sample_personas(10**9, seed=0)
    assert next(records)["persona_id"] == 0
    assert next(records)["persona_id"] == 1


def test_write_streams_jsonl(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "dir" / "personas.jsonl"
    assert write_sample_personas(out, 5000, seed=8) == 5000
    with out.open("rb") as f:
        lines = f.readlines()
    assert len(lines) == 5000
    assert orjson.loads(lines[0])["persona_id"] == 0
    assert orjson.loads(lines[-1])["persona_id"] == 4999
    assert out.read_bytes() == _as_bytes(iter_sample_personas(5000, seed=8))


def test_write_zero_records_creates_empty_file(tmp_path: Path) -> None:
    out = tmp_path / "empty.jsonl"
    assert write_sample_personas(out, 0) == 0
    assert out.read_bytes() == b""
