"""Interview protocol files, and how a protocol shapes requests, lines and records (no
network, no Prefect)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from interviews.batch_types import Conversation, OutcomeStatus, RequestError, RequestOutcome
from interviews.catalog import get_model
from interviews.costs import Usage
from interviews.errors import InputError
from interviews.preparation import DataDirs, estimate_prepared, prepare_requests
from interviews.protocol import MAX_TURNS, load_protocol, turn_run_id
from interviews.providers import get_adapter_class
from interviews.records import RecordContext, write_records
from interviews.requests import CanonicalRequest
from interviews.spec import BatchRunParameters
from tests.conftest import SAMPLE

YAML = """\
name: check-in
questions:
  - How has your health been lately?
  - text: "{{ persona.name }}, which medicines do you take?"
    follow_ups:
      - What would make taking them easier?
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_yaml_and_json_protocols_give_the_questions_then_their_follow_ups(tmp_path) -> None:
    from_yaml = load_protocol(_write(tmp_path, "p.yaml", YAML))
    from_json = load_protocol(
        _write(
            tmp_path,
            "p.json",
            '{"questions": ["How has your health been lately?", {"text": '
            '"{{ persona.name }}, which medicines do you take?", "follow_ups": '
            '["What would make taking them easier?"]}]}',
        )
    )
    assert (
        from_yaml.turns
        == from_json.turns
        == (
            "How has your health been lately?",
            "{{ persona.name }}, which medicines do you take?",
            "What would make taking them easier?",
        )
    )
    assert from_yaml.name == "check-in" and from_json.name == "p"  # the file's stem
    assert from_yaml.sha256 != from_json.sha256


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("bad.yaml", "questions:\n  - a\n - b: [\n", "bad.yaml:3: malformed YAML"),
        ("bad.json", '{"questions": [\n"a",\n}', "bad.json:3: malformed JSON"),
        ("empty.yaml", "questions: []\n", "at least 1 item"),
        ("typo.yaml", "questons:\n  - a\n", "not an interview protocol"),
        ("blank.yaml", "questions:\n  - '  '\n", "a question is empty"),
        ("follow.yaml", "questions:\n  - text: a\n    follow_ups: ['']\n", "follow-up is empty"),
    ],
)
def test_a_bad_protocol_names_the_file_the_line_and_the_fix(
    tmp_path, name: str, text: str, expected: str
) -> None:
    with pytest.raises(InputError) as caught:
        load_protocol(_write(tmp_path, name, text))
    assert expected in str(caught.value) and name in str(caught.value)


def test_too_long_or_missing_protocols_are_refused(tmp_path) -> None:
    many = "questions:\n" + "".join(f"  - q{n}\n" for n in range(MAX_TURNS + 1))
    with pytest.raises(InputError, match="Split it"):
        load_protocol(_write(tmp_path, "long.yaml", many))
    with pytest.raises(InputError, match="protocol file not found"):
        load_protocol(tmp_path / "nope.yaml")


def _params(tmp_path: Path, **extra) -> BatchRunParameters:
    return BatchRunParameters(personas=str(SAMPLE), count=3, **extra)


def test_prepare_renders_every_question_per_persona_and_keeps_the_seed_file_format(
    tmp_path,
) -> None:
    protocol = _write(tmp_path, "p.yaml", YAML)
    dirs = DataDirs(tmp_path / "data")
    prepared = prepare_requests(
        _params(tmp_path, protocol=str(protocol)), dirs=dirs, chunk_dir=tmp_path / "chunks"
    )
    plain = prepare_requests(_params(tmp_path), dirs=dirs, chunk_dir=tmp_path / "plain")

    canonical = [orjson.loads(line) for line in prepared.requests_path.read_bytes().splitlines()]
    assert all("later_questions" not in line and "then" not in line for line in canonical)
    assert canonical[0]["first_question"] == "How has your health been lately?"
    index = [orjson.loads(line) for line in prepared.chunks[0].index_path.read_bytes().splitlines()]
    names = [orjson.loads(line)["persona"]["name"] for line in SAMPLE.read_bytes().splitlines()]
    for entry, name in zip(index, names, strict=False):
        assert entry["then"] == [
            f"{name}, which medicines do you take?",
            "What would make taking them easier?",
        ]
    assert prepared.turns == 3 and plain.turns == 1
    # each question resends the conversation so far: well over three single interviews' input
    model = get_model("anthropic", "claude-sonnet-5-5")
    three, one = estimate_prepared(model, prepared, 2048), estimate_prepared(model, plain, 2048)
    assert three.output_tokens == 3 * one.output_tokens
    assert three.input_tokens > 3 * one.input_tokens


def test_a_protocol_and_a_question_template_are_refused_together(tmp_path) -> None:
    protocol = _write(tmp_path, "p.yaml", YAML)
    template = _write(tmp_path, "q.j2", "Hello?")
    params = _params(tmp_path, protocol=str(protocol), question_template=str(template))
    with pytest.raises(InputError, match="either a question template or a protocol"):
        prepare_requests(params, dirs=DataDirs(tmp_path / "d"), chunk_dir=tmp_path / "c")


REQUEST = CanonicalRequest("interview_0", 0, {}, {}, "You are Ann.", "How are you?")


@pytest.mark.parametrize(
    ("provider", "endpoint"),
    [
        ("anthropic", None),
        ("openai", "/v1/chat/completions"),
        ("openai", "/v1/responses"),
        ("vertex", None),
        ("gemini", None),
    ],
)
def test_continue_line_carries_the_conversation_one_turn_on(provider, endpoint) -> None:
    adapter = get_adapter_class(provider)
    first = adapter.build_line(REQUEST, model="m", max_tokens=10, endpoint=endpoint)
    before = orjson.dumps(first)
    second = adapter.continue_line(first, "Fine, thanks.", "And your sleep?")
    third = adapter.continue_line(second, "Poor.", "Why?")

    assert orjson.dumps(first) == before  # the earlier line is left as it was
    assert adapter.line_custom_id(third) == "interview_0"
    texts = _conversation(provider, third)
    assert texts == [
        ("user", "How are you?"),
        ("assistant", "Fine, thanks."),
        ("user", "And your sleep?"),
        ("assistant", "Poor."),
        ("user", "Why?"),
    ]
    assert b"You are Ann." in orjson.dumps(third)  # the system prompt stays


def _conversation(provider: str, line: dict) -> list[tuple[str, str]]:
    """(role, text) of a provider line's conversation, roles as the record names them."""
    if provider == "anthropic":
        return [(m["role"], m["content"]) for m in line["params"]["messages"]]
    if provider == "openai":
        body = line["body"]
        messages = body.get("messages") or body["input"]
        return [(m["role"], m["content"]) for m in messages if m["role"] != "system"]
    return [
        ("assistant" if c["role"] == "model" else c["role"], c["parts"][0]["text"])
        for c in line["request"]["contents"]
    ]


def test_a_failed_later_question_replaces_the_shorter_answered_record(tmp_path) -> None:
    context = RecordContext("anthropic", get_model("anthropic", "claude-sonnet-5-5"), "r", "b")
    folder = tmp_path / "interviews"
    index = {"interview_0": (0, "How are you?", None)}
    answered = RequestOutcome("interview_0", OutcomeStatus.SUCCEEDED, "Fine.", usage=Usage(10, 5))
    write_records([answered], index=index, context=context, interviews_dir=folder)
    failed = RequestOutcome(
        "interview_0",
        OutcomeStatus.ERRORED,
        error=RequestError("overloaded_error", "busy", transient=True),
    )
    # the first question failing again keeps the answer...
    summary = write_records([failed], index=index, context=context, interviews_dir=folder)
    assert summary.kept_earlier_answers == 1
    # ...but the second question failing carries that answer on, so it replaces the record
    failed.conversation = Conversation(
        [{"role": "user", "content": "How are you?"}, {"role": "assistant", "content": "Fine."}],
        Usage(10, 5),
        "And your sleep?",
    )
    summary = write_records([failed], index=index, context=context, interviews_dir=folder)
    record = orjson.loads((folder / "interview_0.json").read_bytes())
    assert summary.kept_earlier_answers == 0 and record["status"] == "errored"
    assert [t["content"] for t in record["transcript"]] == [
        "How are you?",
        "Fine.",
        "And your sleep?",
    ]
    assert record["usage"]["input_tokens"] == 10  # the interview's usage so far


def test_turn_run_ids() -> None:
    assert [turn_run_id("study", n) for n in (1, 2, 3)] == ["study", "study-q2", "study-q3"]


def test_the_budget_covers_every_question_and_the_first_run_carries_its_own_share(
    tmp_path,
) -> None:
    import dataclasses
    from decimal import Decimal

    from interviews.errors import BudgetError
    from interviews.ledger import Ledger
    from interviews.pipeline import prepare_run

    protocol = _write(tmp_path, "p.yaml", YAML)
    params = _params(tmp_path, protocol=str(protocol), run_id="study")
    dirs, model = DataDirs(tmp_path / "data"), get_model("anthropic", "claude-sonnet-5-5")
    prepared = prepare_requests(params, dirs=dirs, chunk_dir=tmp_path / "chunks")
    whole = estimate_prepared(model, prepared, params.max_tokens).batch
    first = estimate_prepared(model, dataclasses.replace(prepared, turns=1), 2048).batch
    assert whole > 3 * first

    ledger = Ledger.open(dirs.root)
    between = float((first + whole) / 2)  # enough for one question, not for three
    with pytest.raises(BudgetError, match=r"\(3 questions each\)"):
        prepare_run(params.model_copy(update={"max_cost_usd": between}), ledger=ledger, dirs=dirs)
    assert ledger.get_run("study") is None  # refused: nothing recorded, nothing to submit

    plan = prepare_run(params, ledger=ledger, dirs=dirs)
    assert Decimal(plan.estimate_usd) == first
