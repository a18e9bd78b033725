"""Input from the field: Synthea FHIR R4 patient bundles as matched persona + health record pairs.

A folder of `*.json` bundles (Synthea writes one per patient) becomes a matched-personas JSONL:
each bundle is validated as a FHIR Bundle by `fhir.resources` (its R4B models: the R4 release
Synthea writes, with R4B's few corrections), then read into

- `persona`: name, age (on `as_of`, or at death), gender, location, language, marital status;
- `health_record`: `conditions` (name, diagnosed, status), `medications` (active medication
  requests: name, since, dosage), `allergies` (name, reactions, criticality) and
  `observations` (the latest value of each vital sign or laboratory measurement, blood
  pressure as one reading).

The persona id is the Patient's id (Synthea: a UUID), lowercased. Bundles are read one at a time
and records written as they come: a folder of thousands of patients never sits in memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from interviews.errors import InputError
from interviews.jsonl import atomic_writer

# The latest value of at most this many measurements per patient: a record to speak from,
# not a chart (Synthea bundles hold years of observations).
MAX_OBSERVATIONS = 20
_MEASURED = {"vital-signs", "laboratory"}
_SEMANTIC_TAG = re.compile(r"\s\((?:disorder|finding|situation|procedure|event)\)$")
# LOINC systolic and diastolic blood pressure: read as systolic/diastolic, as people say it
_BLOOD_PRESSURE = ("8480-6", "8462-4")


def bundle_files(folder: Path) -> list[Path]:
    """The `*.json` bundles of `folder`, in name order.

    Raises:
        InputError: not a folder, or no bundle in it.
    """
    if not folder.is_dir():
        raise InputError(
            "not a folder of FHIR bundles; pass the folder Synthea wrote", path=str(folder)
        )
    files = sorted(folder.glob("*.json"))
    if not files:
        raise InputError("no *.json FHIR bundles in this folder", path=str(folder))
    return files


def read_bundle(path: Path, as_of: date) -> dict[str, Any] | None:
    """One matched-personas record from the bundle at `path`, or None for a bundle with no
    Patient (Synthea's hospital and practitioner information bundles).

    Raises:
        InputError: not JSON, or not a valid FHIR R4 Bundle (naming the file and the problem).
    """
    from fhir.resources.R4B.bundle import Bundle  # imported here: only this command needs it
    from pydantic import ValidationError

    try:
        bundle = Bundle.model_validate(orjson.loads(path.read_bytes()))
    except orjson.JSONDecodeError as exc:
        raise InputError(
            f"not JSON ({exc}); a FHIR bundle is one JSON object", path=str(path)
        ) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the bundle"
        raise InputError(
            f"not a valid FHIR R4 Bundle: {where}: {first['msg']}; export the bundles as FHIR R4",
            path=str(path),
        ) from None
    resources: dict[str, list[Any]] = {}
    for entry in bundle.entry or ():
        if entry.resource is not None:
            resources.setdefault(entry.resource.get_resource_type(), []).append(entry.resource)
    patients = resources.get("Patient", [])
    if not patients:
        return None
    patient = patients[0]
    return {
        "persona_id": str(patient.id).lower(),
        "persona": _persona(patient, as_of),
        "health_record": {
            "conditions": [_condition(c) for c in resources.get("Condition", [])],
            "medications": [
                _medication(m)
                for m in resources.get("MedicationRequest", [])
                if m.status in ("active", "on-hold")
            ],
            "allergies": [_allergy(a) for a in resources.get("AllergyIntolerance", [])],
            "observations": _observations(resources.get("Observation", [])),
        },
    }


def write_personas(folder: Path, out: Path, as_of: date) -> int:
    """Convert every bundle of `folder` into the matched-personas JSONL `out` (written whole
    or not at all); returns the records written.

    Raises:
        InputError: a bad bundle (nothing is written), or no patient in the folder.
    """
    count = 0
    with atomic_writer(out) as sink:
        for record in _records(bundle_files(folder), as_of):
            sink.write(orjson.dumps(record) + b"\n")
            count += 1
        if not count:
            raise InputError("no Patient in any bundle of this folder", path=str(folder))
    return count


def _records(files: list[Path], as_of: date) -> Iterator[dict[str, Any]]:
    for path in files:
        record = read_bundle(path, as_of)
        if record is not None:
            yield record


def _text(concept: Any) -> str | None:
    """A CodeableConcept's words: its text, else its first coding's display, without SNOMED's
    semantic tag (`Essential hypertension (disorder)` → `Essential hypertension`)."""
    if concept is None:
        return None
    words = concept.text or next((c.display for c in concept.coding or () if c.display), None)
    return None if words is None else _SEMANTIC_TAG.sub("", str(words))


def _code(concept: Any) -> str | None:
    """A CodeableConcept's first code (a status, a category)."""
    for coding in (concept.coding or ()) if concept is not None else ():
        if coding.code:
            return str(coding.code)
    return None


def _persona(patient: Any, as_of: date) -> dict[str, Any]:
    name = (patient.name or [None])[0]
    given = " ".join(name.given or []) if name is not None else ""
    full = " ".join(part for part in (given, name.family if name else None) if part)
    end = patient.deceasedDateTime.date() if patient.deceasedDateTime else as_of
    birth = patient.birthDate
    age = None
    if birth is not None:
        age = end.year - birth.year - ((end.month, end.day) < (birth.month, birth.day))
    address = (patient.address or [None])[0]
    place = (
        ", ".join(str(part) for part in (address.city, address.state, address.country) if part)
        if address is not None
        else None
    )
    language = None
    for communication in patient.communication or ():
        language = _text(communication.language)
        break
    persona: dict[str, Any] = {
        "name": full or None,
        "age": age,
        "gender": patient.gender,
        "location": place,
        "language": language,
        "marital_status": _text(patient.maritalStatus),
    }
    if patient.deceasedDateTime:
        persona["deceased"] = patient.deceasedDateTime.date().isoformat()
    return {key: value for key, value in persona.items() if value is not None}


def _condition(condition: Any) -> dict[str, Any]:
    onset = condition.onsetDateTime
    status = _code(condition.clinicalStatus)
    return {
        key: value
        for key, value in {
            "name": _text(condition.code),
            "diagnosed": onset.date().isoformat() if onset is not None else None,
            "status": status,
        }.items()
        if value is not None
    }


def _medication(request: Any) -> dict[str, Any]:
    concept = request.medicationCodeableConcept
    dosage = (request.dosageInstruction or [None])[0]
    return {
        key: value
        for key, value in {
            "name": _text(concept),
            "since": request.authoredOn.date().isoformat() if request.authoredOn else None,
            "dosage": dosage.text if dosage is not None else None,
            "reason": _text(request.reasonCode[0]) if request.reasonCode else None,
        }.items()
        if value is not None
    }


def _allergy(allergy: Any) -> dict[str, Any]:
    reactions = [
        text
        for reaction in allergy.reaction or ()
        for manifestation in reaction.manifestation or ()
        if (text := _text(manifestation)) is not None
    ]
    return {
        key: value
        for key, value in {
            "name": _text(allergy.code),
            "reactions": reactions or None,
            "criticality": allergy.criticality,
        }.items()
        if value is not None
    }


def _observations(observations: list[Any]) -> list[dict[str, Any]]:
    """The latest value of each vital sign or laboratory measurement, latest first."""
    latest: dict[str, tuple[str, dict[str, Any]]] = {}
    for observation in observations:
        categories = {_code(category) for category in observation.category or ()}
        name = _text(observation.code)
        when = observation.effectiveDateTime
        if not categories & _MEASURED or name is None or when is None:
            continue
        value = _value(observation)
        if value is None:
            continue
        stamp = when.isoformat()
        if name not in latest or latest[name][0] < stamp:
            latest[name] = (stamp, {"name": name, "value": value, "date": when.date().isoformat()})
    ordered = sorted(latest.values(), key=lambda item: item[0], reverse=True)
    return [item for _, item in ordered[:MAX_OBSERVATIONS]]


def _value(observation: Any) -> str | None:
    """`120 mm[Hg]`, `7.1 %`, or for blood pressure `128/82 mm[Hg]` (its two components)."""
    quantity = observation.valueQuantity
    if quantity is not None and quantity.value is not None:
        return f"{quantity.value:g} {quantity.unit or ''}".strip()
    if observation.valueCodeableConcept is not None:
        return _text(observation.valueCodeableConcept)
    components = sorted(
        observation.component or (),
        key=lambda c: (
            _BLOOD_PRESSURE.index(_code(c.code)) if _code(c.code) in _BLOOD_PRESSURE else 2
        ),
    )
    parts = [
        component.valueQuantity
        for component in components
        if component.valueQuantity is not None and component.valueQuantity.value is not None
    ]
    if parts:
        unit = parts[0].unit or ""
        return ("/".join(f"{part.value:g}" for part in parts) + f" {unit}").strip()
    return None
