"""Synthea FHIR R4 bundles as matched personas: demographics, conditions, active medications,
allergies and the latest observations, validated by fhir.resources; bad bundles named."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import orjson
import pytest

from interviews.errors import InputError
from interviews.fhir import read_bundle, write_personas
from interviews.personas import iter_personas
from interviews.prompts import Prompts
from interviews.quality import answer_flags, record_facts

ROOT = Path(__file__).resolve().parents[1]
BUNDLES = ROOT / "tests" / "data" / "fhir"
AS_OF = date(2026, 12, 7)
MARIA = BUNDLES / "Maria_Ruiz_6f1c2a4e.json"
BAD_BIRTH_DATE = json.dumps(
    {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": {"resourceType": "Patient", "id": "x", "birthDate": "someday"}}],
    }
)


def test_a_folder_of_bundles_becomes_matched_personas(tmp_path: Path) -> None:
    out = tmp_path / "personas.jsonl"
    assert write_personas(BUNDLES, out, AS_OF) == 2  # the hospital bundle has no Patient
    maria, tom = (orjson.loads(line) for line in out.read_bytes().splitlines())
    assert maria["persona_id"] == "6f1c2a4e-0b7d-4c55-9a6e-1d2f3a4b5c6d"
    assert maria["persona"] == {
        "name": "Maria Elena Ruiz",
        "age": 58,
        "gender": "female",
        "location": "San Antonio, Texas, US",
        "language": "English (United States)",
        "marital_status": "Married",
    }
    record = maria["health_record"]
    assert record["conditions"][0] == {
        "name": "Diabetes mellitus type 2",  # without SNOMED's "(disorder)"
        "diagnosed": "2016-05-10",
        "status": "active",
    }
    assert record["conditions"][2]["status"] == "resolved"
    assert [m["name"] for m in record["medications"]] == [  # the stopped amoxicillin is not
        "Metformin hydrochloride 500 MG Oral Tablet",
        "Lisinopril 10 MG Oral Tablet",
    ]
    assert record["medications"][0]["dosage"] == "Take 1 tablet twice daily with meals"
    assert record["allergies"] == [
        {"name": "Penicillin V", "reactions": ["Skin rash"], "criticality": "low"}
    ]
    observed = {o["name"]: o["value"] for o in record["observations"]}
    assert observed == {
        "Body Mass Index": "30.9 kg/m2",  # the latest of two
        "Blood pressure panel": "128/82 mm[Hg]",  # systolic first, as people say it
        "Hemoglobin A1c/Hemoglobin.total in Blood": "7.4 %",
    }  # the smoking status (social history, no value) is not a measurement
    assert tom["persona"]["age"] == 75 and tom["health_record"]["allergies"] == []

    # a valid matched-personas file, whose prompts speak of the record
    records = list(iter_personas(out))
    system, _ = Prompts.load(None, None).render(records[0], source=str(out))
    assert "Metformin hydrochloride" in system and "Penicillin V" in system
    # and whose facts the quality flags check answers against
    facts = record_facts(maria["persona"], record)
    assert "contradicts_record" in answer_flags("I don't have diabetes.", "end_turn", facts)


def test_a_deceased_patients_age_is_their_age_at_death(tmp_path: Path) -> None:
    bundle = json.loads(MARIA.read_text())
    bundle["entry"][0]["resource"]["deceasedDateTime"] = "2020-03-01T00:00:00-05:00"
    path = tmp_path / "maria.json"
    path.write_text(json.dumps(bundle))
    persona = read_bundle(path, AS_OF)["persona"]  # type: ignore[index]
    assert persona["age"] == 51 and persona["deceased"] == "2020-03-01"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ('{"resourceType": "Patient", "id": "x"}', "not a valid FHIR R4 Bundle"),
        (BAD_BIRTH_DATE, "not a valid FHIR R4 Bundle"),
    ],
)  # fmt: skip
def test_a_bad_bundle_is_named_and_nothing_is_written(
    tmp_path: Path, content: str, message: str
) -> None:
    folder = tmp_path / "bundles"
    folder.mkdir()
    shutil.copy(MARIA, folder / "a.json")
    (folder / "b.json").write_text(content)
    out = tmp_path / "personas.jsonl"
    with pytest.raises(InputError, match=message) as caught:
        write_personas(folder, out, AS_OF)
    assert str(folder / "b.json") in str(caught.value)
    assert not out.exists()  # whole or not at all


def test_the_command_converts_and_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "interviews", "fhir-personas", *args],
            capture_output=True, text=True, cwd=ROOT, timeout=60,
            env={**os.environ, "COLUMNS": "200"},
        )  # fmt: skip

    out = tmp_path / "p.jsonl"
    done = cli(str(BUNDLES), "--out", str(out), "--as-of", "2026-12-07")
    assert done.returncode == 0, done.stderr
    assert "✓ 2 personas with their health records written to" in done.stdout
    bad_day = cli(str(BUNDLES), "--out", str(out), "--as-of", "07/12/2026")
    assert bad_day.returncode == 1 and "--as-of must be a date like" in bad_day.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = cli(str(empty), "--out", str(out))
    assert nothing.returncode == 1 and "no *.json FHIR bundles" in nothing.stderr
