"""Hostile matched-personas and protocol files: one clear line each, never a traceback.

A 300-deep health record used to end in a RecursionError inside the prompt renderer
(`describe` recurses per level); nesting is now refused at load, past MAX_DEPTH levels.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from interviews.errors import InputError
from interviews.personas import MAX_ARRAY_BYTES, MAX_DEPTH, MAX_RECORD_BYTES, iter_personas
from interviews.protocol import load_protocol

GOOD = {"persona": {"name": "A"}, "health_record": {"conditions": []}}


def nested(levels: int) -> object:
    """`levels` objects, one inside the other."""
    value: object = "deep"
    for _ in range(levels):
        value = {"a": value}
    return value


def record_of_depth(depth: int) -> dict:
    """A record whose nesting, counting the record itself, is `depth` levels."""
    return {"persona": {"name": "A"}, "health_record": nested(depth - 1)}


def jsonl(path: Path, *records: object) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "interviews", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "250"},
        timeout=120,
    )


def test_a_300_deep_health_record_is_one_line_naming_file_line_and_fix(tmp_path: Path) -> None:
    personas = jsonl(tmp_path / "p.jsonl", GOOD, {"persona": {}, "health_record": nested(300)})
    data = tmp_path / "data"
    result = cli("prepare", "--personas", str(personas), "--data-dir", str(data))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: {personas}:2: record nests objects or lists more than {MAX_DEPTH} levels deep; "
        f"flatten it (at most {MAX_DEPTH} levels)"
    )
    assert not [path for path in data.rglob("*") if path.is_file()]  # nothing left behind


def test_the_depth_limit_is_exact_and_a_record_at_it_renders(tmp_path: Path) -> None:
    at_limit = jsonl(tmp_path / "ok.jsonl", record_of_depth(MAX_DEPTH))
    data = tmp_path / "data"
    result = cli("prepare", "--personas", str(at_limit), "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    over = jsonl(tmp_path / "over.jsonl", GOOD, record_of_depth(MAX_DEPTH + 1))
    with pytest.raises(InputError, match=rf"^{over}:2: record nests .* more than {MAX_DEPTH}"):
        list(iter_personas(over))
    # lists count as levels too
    lists = jsonl(tmp_path / "lists.jsonl", {"persona": {}, "health_record": {"x": [[[[]]]] * 0}})
    assert len(list(iter_personas(lists))) == 1
    deep_lists = tmp_path / "deep_lists.jsonl"
    deep_lists.write_text(
        '{"persona": {}, "health_record": {"x": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}}\n"
    )
    with pytest.raises(InputError, match=rf"^{deep_lists}:1: record nests"):
        list(iter_personas(deep_lists))


@pytest.mark.parametrize("levels", [300, 100_000])
def test_deep_nesting_in_a_json_array_or_beyond_the_parser_limit(
    tmp_path: Path, levels: int
) -> None:
    text = "[" * levels + "]" * levels  # orjson itself refuses past 1024 levels
    line = '{"persona": {}, "health_record": {"x": ' + text + "}}"
    array = tmp_path / "p.json"
    array.write_text(f"[{json.dumps(GOOD)}, {line}]")
    lines = tmp_path / "p.jsonl"
    lines.write_text(json.dumps(GOOD) + "\n" + line + "\n")
    where = "" if levels > 1024 else ":2"  # past orjson's limit, the element is not known
    with pytest.raises(InputError, match=rf"^{array}{where}: record nests objects or lists"):
        list(iter_personas(array))
    with pytest.raises(InputError, match=rf"^{lines}:2: record nests objects or lists"):
        list(iter_personas(lines))


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_protocol_nested_100000_deep_is_one_line(tmp_path: Path, suffix: str) -> None:
    # the standard json module and PyYAML both recurse per level: RecursionError without care
    protocol = tmp_path / f"protocol{suffix}"
    protocol.write_text('{"questions": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(InputError, match=rf"^{protocol}: nested far too deeply"):
        load_protocol(protocol)


def test_a_huge_line_is_refused_without_reading_past_the_limit(tmp_path: Path) -> None:
    personas = tmp_path / "huge.jsonl"
    big = {"persona": {"name": "A"}, "health_record": {"notes": "x" * MAX_RECORD_BYTES}}
    jsonl(personas, GOOD, big, GOOD)
    with pytest.raises(
        InputError, match=rf"^{personas}:2: record is larger than {MAX_RECORD_BYTES >> 20} MB"
    ):
        list(iter_personas(personas))


def test_a_huge_json_array_file_must_be_jsonl(tmp_path: Path) -> None:
    personas = tmp_path / "huge.json"
    with personas.open("wb") as handle:  # sparse: the size is checked before anything is read
        handle.write(b"[")
        handle.truncate(MAX_ARRAY_BYTES + 1)
    with pytest.raises(
        InputError, match=rf"^{personas}: JSON array file of .* convert it to JSONL"
    ):
        list(iter_personas(personas))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"persona": {}, "health_record": {"x": NaN}}', "malformed JSON"),
        ('{"persona": {}, "health_record": {"x": Infinity}}', "malformed JSON"),
        ('{"persona": {}, "health_record": {"x": 1e400}}', "malformed JSON"),
        ('"just a string"', "expected a JSON object with persona and health_record, got str"),
        ("null", "expected a JSON object with persona and health_record, got NoneType"),
        ('{"persona": [], "health_record": {}}', "'persona' must be a JSON object, got list"),
        ('{"persona_id": 0, "persona": {}, "health_record": {}}', "duplicate persona_id 0"),
        ('{"persona_id": 1.5, "persona": {}, "health_record": {}}', "persona_id must be"),
        ('\ufeff{"persona": {}, "health_record": {}}', "byte order mark"),
    ],
)
def test_other_hostile_records_are_one_line(tmp_path: Path, line: str, message: str) -> None:
    personas = tmp_path / "p.jsonl"
    personas.write_text(json.dumps(GOOD) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        list(iter_personas(personas))
    assert str(caught.value).startswith(f"{personas}:2: ")
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_folder_or_unreadable_file_is_one_line(tmp_path: Path) -> None:
    result = cli("prepare", "--personas", str(tmp_path), "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: {tmp_path}: cannot read the file (Is a directory); pass a readable "
        "matched-personas JSONL or JSON file"
    )
