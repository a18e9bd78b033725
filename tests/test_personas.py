"""Input loading and validation: every bad input names its file, line and fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interviews.errors import InputError
from interviews.personas import iter_personas, select_personas
from tests.conftest import SAMPLE, write_jsonl

GOOD = json.dumps({"persona": {"name": "A"}, "health_record": {"conditions": []}})


def test_sample_file_loads_with_index_ids() -> None:
    records = list(iter_personas(SAMPLE))
    assert len(records) >= 20
    assert [r.custom_id for r in records[:2]] == ["interview_0", "interview_1"]


def test_json_array_and_default_ids(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps([json.loads(GOOD), {**json.loads(GOOD), "persona_id": "p-7"}]))
    records = list(iter_personas(path))
    assert [r.persona_id for r in records] == [0, "p-7"]
    assert records[1].custom_id == "interview_p-7"


@pytest.mark.parametrize(
    ("lines", "line", "words"),
    [
        ([GOOD, '{"persona": {"name": "B"}, "health_record": {', GOOD], 2, "malformed JSON"),
        ([GOOD, '{"persona": {"name": "B"}}'], 2, "'health_record'"),
        ([GOOD, '{"persona": "B", "health_record": {}}'], 2, "'persona' must be a JSON object"),
        ([GOOD, "[1, 2]"], 2, "expected a JSON object"),
        (
            [
                '{"persona_id": 3, "persona": {}, "health_record": {}}',
                '{"persona_id": 3, "persona": {}, "health_record": {}}',
            ],
            2,
            "duplicate persona_id 3 (first seen at line 1)",
        ),
        (['{"persona_id": "Bad Id", "persona": {}, "health_record": {}}'], 1, "rename it"),
        (['{"persona_id": -1, "persona": {}, "health_record": {}}'], 1, "negative"),
    ],
)
def test_bad_records_name_file_and_line(
    tmp_path: Path, lines: list[str], line: int, words: str
) -> None:
    path = write_jsonl(tmp_path / "personas.jsonl", lines)
    with pytest.raises(InputError) as caught:
        list(iter_personas(path))
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert words in str(caught.value)


def test_int_and_string_ids_that_collide_are_duplicates(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "p.jsonl",
        [
            '{"persona_id": 7, "persona": {}, "health_record": {}}',
            '{"persona_id": "7", "persona": {}, "health_record": {}}',
        ],
    )
    with pytest.raises(InputError, match="duplicate"):
        list(iter_personas(path))


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "empty.jsonl", [""])
    with pytest.raises(InputError, match="no records"):
        list(iter_personas(path))


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        list(iter_personas(tmp_path / "nope.jsonl"))


def test_select_slice_like_the_seed_script(tmp_path: Path) -> None:
    lines = [json.dumps({"persona": {"n": i}, "health_record": {}}) for i in range(10)]
    path = write_jsonl(tmp_path / "p.jsonl", lines)
    chosen = list(select_personas(path, count=3, start_index=5))
    assert [r.persona_id for r in chosen] == [5, 6, 7]


def test_select_validates_records_outside_the_slice(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", [GOOD, GOOD, "{oops"])
    with pytest.raises(InputError, match=":3: malformed JSON"):
        list(select_personas(path, count=1))


@pytest.mark.parametrize(("count", "start"), [(5, 0), (1, 2), (0, 0)])
def test_select_out_of_range(tmp_path: Path, count: int, start: int) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", [GOOD, GOOD])
    with pytest.raises(InputError):
        list(select_personas(path, count=count, start_index=start))


@pytest.mark.parametrize("as_array", [False, True])
def test_duplicate_names_the_line_of_the_first_occurrence(tmp_path: Path, as_array: bool) -> None:
    records = [
        '{"persona_id": "a", "persona": {}, "health_record": {}}',
        '{"persona": {}, "health_record": {}}',
        '{"persona_id": 1, "persona": {}, "health_record": {}}',
    ]
    if as_array:
        path = tmp_path / "p.json"
        path.write_text("[" + ",\n".join(records) + "]")
        first = 2
    else:
        path = write_jsonl(tmp_path / "p.jsonl", [records[0], "", records[1], records[2]])
        first = 3  # the blank line counts: line numbers are the file's
    with pytest.raises(InputError) as caught:
        list(iter_personas(path))
    assert f"duplicate persona_id 1 (first seen at line {first})" in str(caught.value)
