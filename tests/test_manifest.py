"""The reproducibility manifest: what a prepared run records, and `interviews rerun` preparing
the same requests byte for byte from it (templates and protocol from the manifest's own text),
refusing a changed personas file and reporting requests that differ."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson

from interviews.pipeline import prepare_run
from interviews.preparation import file_sha256, open_data_dir
from interviews.spec import BatchRunParameters
from tests.conftest import SAMPLE
from tests.test_protocol import YAML as PROTOCOL

ROOT = Path(__file__).resolve().parents[1]
SYSTEM = "You are {{ persona.name }}, {{ persona.age }}. Answer as yourself.\n"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "interviews", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
        env={**os.environ, "COLUMNS": "250"},
    )  # fmt: skip


def _prepared(tmp_path: Path) -> tuple[Path, Path, dict]:
    """A prepared run with a protocol and its own system template; (data dir, manifest path,
    manifest)."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "system.j2").write_text(SYSTEM)
    (inputs / "protocol.yaml").write_text(PROTOCOL)
    personas = inputs / "personas.jsonl"
    shutil.copy(SAMPLE, personas)
    data = tmp_path / "data"
    dirs = open_data_dir(str(data))
    params = BatchRunParameters(
        provider="openai",
        personas=str(personas),
        count=5,
        start_index=2,
        system_template=str(inputs / "system.j2"),
        protocol=str(inputs / "protocol.yaml"),
        run_id="original",
        data_dir=str(data),
    )
    prepare_run(params, ledger=dirs.open_ledger(None), dirs=dirs)
    path = data / "runs" / "original" / "manifest.json"
    return data, path, orjson.loads(path.read_bytes())


def test_the_manifest_holds_what_the_requests_were_made_from(tmp_path: Path) -> None:
    data, _, manifest = _prepared(tmp_path)
    assert manifest["run_id"] == "original" and manifest["provider"] == "openai"
    assert manifest["model"]["sent"] == "gpt-6.1-terra"
    personas = manifest["personas"]
    assert (personas["count"], personas["start_index"], personas["selected"]) == (5, 2, 5)
    assert personas["sha256"] == file_sha256(SAMPLE)
    assert manifest["inputs"]["system_template"]["text"] == SYSTEM
    assert manifest["inputs"]["protocol"]["text"] == PROTOCOL
    assert manifest["inputs"]["question_template"]["file"] == "(default) first_question.j2"
    assert manifest["prices"]["batch"]["input"] == "0.5"  # GPT-6.1 Terra in batch
    assert manifest["environment"]["packages"]["openai"]
    [chunk] = manifest["requests"]["chunks"]
    assert chunk["sha256"] == file_sha256(data / "runs" / "original" / chunk["file"])
    assert chunk["requests"] == 5


def test_rerun_prepares_the_same_requests_byte_for_byte(tmp_path: Path) -> None:
    data, path, manifest = _prepared(tmp_path)
    for name in ("system.j2", "protocol.yaml"):
        (tmp_path / "inputs" / name).unlink()  # the manifest carries their text
    result = _cli("rerun", str(path), "--run-id", "again", "--data-dir", str(data))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "identical byte for byte to run original's" in result.stdout
    assert "--run-id again" in result.stdout and "--protocol" in result.stdout
    again = orjson.loads((data / "runs" / "again" / "manifest.json").read_bytes())
    assert again["requests"] == manifest["requests"] | {"chunks": again["requests"]["chunks"]}
    assert [c["sha256"] for c in again["requests"]["chunks"]] == [
        c["sha256"] for c in manifest["requests"]["chunks"]
    ]


def test_rerun_refuses_a_changed_personas_file_and_names_differing_requests(
    tmp_path: Path,
) -> None:
    data, path, manifest = _prepared(tmp_path)
    tampered = dict(manifest, requests={**manifest["requests"], "canonical_sha256": "0" * 64})
    other = tmp_path / "tampered.json"
    other.write_bytes(orjson.dumps(tampered))
    differs = _cli("rerun", str(other), "--run-id", "tampered", "--data-dir", str(data))
    assert differs.returncode == 1 and "the requests differ from the manifest's" in differs.stderr

    with (tmp_path / "inputs" / "personas.jsonl").open("a") as personas:
        personas.write("\n")
    changed = _cli("rerun", str(path), "--run-id", "changed", "--data-dir", str(data))
    assert changed.returncode == 1 and "the personas file changed since the run" in changed.stderr
    assert not (data / "runs" / "changed").exists()  # refused before anything was prepared
