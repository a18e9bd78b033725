"""The `interviews` command as a user runs it: real processes, exit codes, messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pydantic
import pytest
from anthropic.types.messages.batch_create_params import Request

from tests.conftest import SAMPLE, write_jsonl

GOOD = json.dumps({"persona": {"name": "A"}, "health_record": {"conditions": []}})


def cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "interviews", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "250", **(env or {})},
        cwd=cwd,
        timeout=120,
    )


def test_model_has_its_short_option_on_every_command() -> None:
    # `-m` is `--model` everywhere (an Optional around the option's Annotated had dropped it)
    short = cli("estimate", "-p", "openai", "-m", "gpt-6-luna", "--count", "1000")
    long = cli("estimate", "-p", "openai", "--model", "gpt-6-luna", "--count", "1000")
    assert short.returncode == 0, short.stderr
    assert short.stdout == long.stdout and "gpt-6-luna" in short.stdout
    for command in ("prepare", "check"):
        assert "-m" in cli(command, "--help").stdout.split("--model", 1)[1].split("\n", 1)[0]


def test_version_and_every_providers_models() -> None:
    from importlib.metadata import version

    shown = cli("--version")
    assert shown.returncode == 0 and shown.stdout == f"interviews {version('interviews')}\n"
    listed = cli("models")
    assert listed.returncode == 0, listed.stderr
    titles = [line.split()[0] for line in listed.stdout.splitlines() if "models (USD" in line]
    assert titles == ["anthropic", "openai", "vertex", "gemini"]
    one = cli("models", "-p", "gemini")
    assert "gemini-3.8-flash" in one.stdout and "claude-sonnet-5-5" not in one.stdout


def test_estimate_matches_the_seed_table() -> None:
    result = cli(
        "estimate",
        "--provider",
        "anthropic",
        "--model",
        "claude-sonnet-4-5-20250929",
        "--count",
        "10000",
        "--input-tokens",
        "3000",
        "--output-tokens",
        "2000",
    )
    assert result.returncode == 0, result.stderr
    assert "$390.00 real-time, $195.00 batch" in result.stdout


def test_prepare_writes_seed_file_and_sdk_valid_lines(data_dir: Path) -> None:
    result = cli(
        "prepare",
        "--provider",
        "anthropic",
        "--personas",
        str(SAMPLE),
        "--count",
        "5",
        "--data-dir",
        str(data_dir),
    )
    assert result.returncode == 0, result.stderr
    canonical = [
        p
        for p in (data_dir / "batch_requests").glob("batch_request_anthropic_*.jsonl")
        if "_ready" not in p.name
    ]
    assert len(canonical) == 1
    lines = [orjson.loads(x) for x in canonical[0].read_bytes().splitlines()]
    assert [line["custom_id"] for line in lines] == [f"interview_{i}" for i in range(5)]
    assert list(lines[0]) == [
        "custom_id",
        "persona_id",
        "persona",
        "health_record",
        "system_message",
        "first_question",
    ]
    [ready] = (data_dir / "batch_requests").glob("*_ready_c000.jsonl")
    adapter = pydantic.TypeAdapter(Request)
    for raw in ready.read_bytes().splitlines():
        adapter.validate_python(orjson.loads(raw), strict=True)


def bad_inputs(tmp_path: Path) -> list[tuple[list[str], str]]:
    missing = tmp_path / "missing.j2"
    missing.write_text("You are {{ persona.nickname }}")
    return [
        (["--personas", str(write_jsonl(tmp_path / "a.jsonl", [GOOD, "{bad"]))], "a.jsonl:2:"),
        (
            ["--personas", str(write_jsonl(tmp_path / "b.jsonl", ['{"persona": {}}']))],
            "b.jsonl:1: record has no 'health_record'",
        ),
        (
            [
                "--personas",
                str(
                    write_jsonl(
                        tmp_path / "c.jsonl",
                        [
                            '{"persona_id": 1, "persona": {}, "health_record": {}}',
                            '{"persona_id": 1, "persona": {}, "health_record": {}}',
                        ],
                    )
                ),
            ],
            "c.jsonl:2: duplicate persona_id 1",
        ),
        (["--personas", str(write_jsonl(tmp_path / "d.jsonl", []))], "d.jsonl: no records"),
        (["--personas", str(SAMPLE), "--system-template", str(missing)], "nickname"),
        (["--personas", str(SAMPLE), "--model", "claude-nope"], "unknown anthropic model"),
    ]


def test_bad_inputs_fail_clearly_and_create_no_batch(tmp_path: Path, emu, control) -> None:
    env = {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": emu.anthropic_base_url}
    for args, expected in bad_inputs(tmp_path):
        result = cli(
            "run",
            "--provider",
            "anthropic",
            "--batch",
            "--data-dir",
            str(tmp_path / "data"),
            *args,
            env=env,
        )
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert expected in result.stderr.replace("\n", ""), result.stderr
        assert "Traceback" not in result.stderr + result.stdout
    assert control.stats()["anthropic"]["batches_created"] == 0
    assert not (tmp_path / "data" / "batch_requests").exists() or not any(
        (tmp_path / "data" / "batch_requests").iterdir()
    )


def test_convert_results_downloaded_by_hand(tmp_path: Path, data_dir: Path) -> None:
    results = write_jsonl(
        tmp_path / "batch_output_anthropic.jsonl",
        [
            json.dumps(
                {
                    "custom_id": "interview_7",
                    "result": {
                        "type": "succeeded",
                        "message": {
                            "id": "msg_1",
                            "type": "message",
                            "role": "assistant",
                            "model": "claude-sonnet-5-5",
                            "content": [{"type": "text", "text": "Well, my knee."}],
                            "stop_reason": "end_turn",
                            "stop_sequence": None,
                            "usage": {"input_tokens": 100, "output_tokens": 10},
                        },
                    },
                }
            ),
            json.dumps({"custom_id": "interview_8", "result": {"type": "expired"}}),
        ],
    )
    result = cli(
        "convert", "--provider", "anthropic", "--results", str(results), "--data-dir", str(data_dir)
    )
    assert result.returncode == 0, result.stderr
    record = json.loads((data_dir / "interviews" / "interview_7.json").read_text())
    assert record["persona_id"] == 7 and record["model"] == "claude-sonnet-5-5"
    assert record["transcript"] == [{"role": "assistant", "content": "Well, my knee."}]
    assert json.loads((data_dir / "interviews" / "interview_8.json").read_text())["status"] == (
        "expired"
    )


@pytest.mark.parametrize("args", [["--help"], ["estimate", "--count", "5"], ["launch", "--help"]])
def test_light_commands_do_not_import_sdks_or_prefect(args: list[str]) -> None:
    probe = (
        "import sys, runpy; sys.argv=['interviews', *sys.argv[1:]];\n"
        "try:\n    runpy.run_module('interviews', run_name='__main__')\n"
        "except SystemExit: pass\n"
        "heavy = [m for m in ('anthropic', 'prefect', 'sqlalchemy') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True)
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr


def test_missing_credentials_fail_before_any_work(data_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    result = cli("run", "--personas", str(SAMPLE), "--data-dir", str(data_dir), env=env)
    assert result.returncode == 1
    assert "set ANTHROPIC_API_KEY or pass --credentials-block" in result.stderr.replace("\n", " ")
    assert not any(data_dir.iterdir())


@pytest.mark.parametrize("endpoint", ["/v1/chat/completions", "/v1/responses"])
def test_prepare_openai_lines_match_the_sdk_params(data_dir: Path, endpoint: str) -> None:
    from openai.types.chat.completion_create_params import CompletionCreateParamsNonStreaming
    from openai.types.responses.response_create_params import ResponseCreateParamsNonStreaming

    result = cli(
        "prepare",
        "--provider",
        "openai",
        "--personas",
        str(SAMPLE),
        "--count",
        "4",
        "--openai-endpoint",
        endpoint,
        "--data-dir",
        str(data_dir),
    )
    assert result.returncode == 0, result.stderr
    [ready] = (data_dir / "batch_requests").glob("*_ready_c000.jsonl")
    params_type = (
        CompletionCreateParamsNonStreaming
        if endpoint == "/v1/chat/completions"
        else ResponseCreateParamsNonStreaming
    )
    adapter = pydantic.TypeAdapter(params_type)
    lines = [orjson.loads(raw) for raw in ready.read_bytes().splitlines()]
    assert len(lines) == 4
    for line in lines:
        assert line["url"] == endpoint and line["method"] == "POST"
        adapter.validate_python(line["body"], strict=True)
        assert "max_tokens" not in line["body"] and "temperature" not in line["body"]


def test_unknown_provider_is_one_clear_error() -> None:
    result = cli("estimate", "--provider", "mistral", "--count", "3")
    assert result.returncode == 1
    assert "supported providers: anthropic, openai" in result.stderr


def test_emulator_serve_answers_on_loopback() -> None:
    import socket
    import time

    from interviews.emulator import EmulatorControl

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "interviews", "emulator", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with EmulatorControl(f"http://127.0.0.1:{port}") as control:
            deadline = time.monotonic() + 30
            while True:
                try:
                    assert control.health()
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_emulator_refuses_a_non_loopback_address() -> None:
    result = cli("emulator", "serve", "--host", "0.0.0.0", "--port", "9")
    assert result.returncode == 1
    assert "loopback" in result.stderr and "Traceback" not in result.stderr


def test_convert_openai_output_file(tmp_path: Path, data_dir: Path) -> None:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-6.1-terra",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": "Mostly fine, thanks."},
            }
        ],
        "usage": {"prompt_tokens": 50, "completion_tokens": 5, "total_tokens": 55},
    }
    results = write_jsonl(
        tmp_path / "batch_output_openai.jsonl",
        [
            json.dumps(
                {
                    "id": "r1",
                    "custom_id": "interview_2",
                    "error": None,
                    "response": {"status_code": 200, "request_id": "q", "body": body},
                }
            ),
            json.dumps(
                {
                    "id": "r2",
                    "custom_id": "interview_3",
                    "response": None,
                    "error": {"code": "batch_expired", "message": "window ended"},
                }
            ),
        ],
    )
    result = cli(
        "convert", "--provider", "openai", "--results", str(results), "--data-dir", str(data_dir)
    )
    assert result.returncode == 0, result.stderr
    record = json.loads((data_dir / "interviews" / "interview_2.json").read_text())
    assert record["model"] == "gpt-6.1-terra" and record["provider"] == "openai"
    assert record["transcript"][-1]["content"] == "Mostly fine, thanks."
    expired = json.loads((data_dir / "interviews" / "interview_3.json").read_text())
    assert expired["status"] == "expired"


def test_prepare_vertex_lines_parse_strictly_as_generate_content_requests(data_dir: Path) -> None:
    from google.cloud import aiplatform_v1
    from google.protobuf import json_format

    result = cli(
        "prepare",
        "--provider",
        "vertex",
        "--personas",
        str(SAMPLE),
        "--count",
        "3",
        "--data-dir",
        str(data_dir),
    )
    assert result.returncode == 0, result.stderr
    [ready] = (data_dir / "batch_requests").glob("*_ready_c000.jsonl")
    for number, raw in enumerate(ready.read_bytes().splitlines()):
        line = orjson.loads(raw)
        assert list(line) == ["request"]
        message = aiplatform_v1.GenerateContentRequest.pb()()
        json_format.Parse(orjson.dumps(line["request"]), message, ignore_unknown_fields=False)
        assert message.labels["custom_id"] == f"interview_{number}"
        assert message.system_instruction.parts[0].text.startswith("You are taking part")
        assert message.generation_config.max_output_tokens == 2048
    bad = aiplatform_v1.GenerateContentRequest.pb()()
    with pytest.raises(json_format.ParseError):  # the strictness is real
        json_format.Parse(b'{"contents": [], "customId": "x"}', bad, ignore_unknown_fields=False)


def test_prepare_gemini_lines_are_keyed_requests(data_dir: Path) -> None:
    from google.genai import types

    result = cli(
        "prepare",
        "--provider",
        "gemini",
        "--personas",
        str(SAMPLE),
        "--count",
        "2",
        "--data-dir",
        str(data_dir),
    )
    assert result.returncode == 0, result.stderr
    [ready] = (data_dir / "batch_requests").glob("*_ready_c000.jsonl")
    lines = [orjson.loads(raw) for raw in ready.read_bytes().splitlines()]
    assert [line["key"] for line in lines] == ["interview_0", "interview_1"]
    for line in lines:
        types.Content.model_validate(line["request"]["contents"][0])
        types.Content.model_validate(line["request"]["systemInstruction"])
        types.GenerationConfig.model_validate(line["request"]["generationConfig"])


def test_max_cost_refusal_creates_no_batch(tmp_path: Path, emu, control) -> None:
    env = {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": emu.anthropic_base_url}
    result = cli(
        "run",
        "--personas",
        str(SAMPLE),
        "--max-cost",
        "0.01",
        "--data-dir",
        str(tmp_path / "data"),
        env=env,
    )
    assert result.returncode == 1
    message = result.stderr.replace("\n", " ")
    assert "exceeds --max-cost $0.01" in message and "raise --max-cost" in message
    assert "Traceback" not in result.stderr
    assert control.stats()["anthropic"]["batches_created"] == 0
    assert not (tmp_path / "data" / "runs").exists() or not any(
        (tmp_path / "data" / "runs").iterdir()
    )


def test_status_and_cancel_from_the_ledger(tmp_path: Path, emu, control) -> None:
    from interviews.ledger import Ledger
    from interviews.pipeline import prepare_run, submit_chunk
    from interviews.preparation import DataDirs
    from interviews.providers.anthropic_batches import AnthropicBatchAdapter
    from interviews.spec import BatchRunParameters

    control.configure(processing_seconds=3600)
    data = tmp_path / "data"
    ledger, dirs = Ledger.open(data), DataDirs(data)
    adapter = AnthropicBatchAdapter(api_key="k", base_url=emu.anthropic_base_url)
    plan = prepare_run(
        BatchRunParameters(personas=str(SAMPLE), count=3, run_id="st1"), ledger=ledger, dirs=dirs
    )
    job = submit_chunk(plan.chunks[0], adapter=adapter, ledger=ledger)

    shown = cli("status", "st1", "--data-dir", str(data))
    assert shown.returncode == 0, shown.stderr
    assert "st1" in shown.stdout and job.batch_id in shown.stdout.replace("\n", "")

    env = {"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": emu.anthropic_base_url}
    canceled = cli("cancel", "st1", "--data-dir", str(data), env=env)
    assert canceled.returncode == 0, canceled.stderr
    assert f"Canceled {job.batch_id}" in canceled.stdout.replace("\n", "")
    assert adapter.retrieve(job.batch_id).status.is_terminal
    assert cli("status", "nope", "--data-dir", str(data)).returncode == 1


def test_credential_blocks_do_not_load_the_google_cloud_sdks() -> None:
    """Every flow run and `interviews run` imports the blocks: prefect-gcp (aiplatform and
    BigQuery, 5-7 s) is imported only when a Vertex block names a GCP Credentials block."""
    probe = (
        "import sys, blocks.credentials\n"
        "heavy = [m for m in ('prefect_gcp', 'google.cloud.aiplatform', 'google.cloud.bigquery')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("command", ["run", "estimate", "launch", "export"])
def test_help_reads_at_80_columns_and_names_the_providers(command: str) -> None:
    result = cli(command, "--help", env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    # docstring paragraphs are reflowed, not cut where the source lines end
    if command != "export":  # --provider names its choices
        assert all(name in result.stdout for name in ("anthropic", "openai", "vertex", "gemini"))
    if command == "run":
        summary = " ".join(" ".join(lines[:12]).split())
        assert "its ordinary API (answers in seconds, full price;" in summary
