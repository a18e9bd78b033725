"""Pointing `interviews` at the emulator by environment, as a user does: the `export` lines
`interviews emulator serve` prints (all four providers, Vertex AI included) pass every
preflight check, and a run against loopback polls at once instead of every 30 s."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from blocks.credentials import AnthropicCredentials, VertexBatchSettings, on_loopback
from interviews.cli.emulator_commands import export_lines
from interviews.preflight import run_checks
from interviews.settings import Settings
from tasks.wait import LOOPBACK_BACKOFF, _backoff

ROOT = Path(__file__).resolve().parents[1]
MODELS = {
    "anthropic": "claude-sonnet-5-5",
    "openai": "gpt-6.1-terra",
    "vertex": "gemini-3.5-flash",
    "gemini": "gemini-3.8-flash",
}


def _apply(lines: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """What the shell does with the printed `export` lines."""
    for line in lines:
        for pair in line.removeprefix("export ").split():
            name, _, value = pair.partition("=")
            monkeypatch.setenv(name, value)


@pytest.mark.parametrize("provider", sorted(MODELS))
def test_the_printed_export_lines_reach_every_provider(
    emu, control, provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _apply(export_lines(emu.url, emu.gcs_url), monkeypatch)
    checks = run_checks(provider, MODELS[provider], credentials_block=None, count=10, max_cost=None)
    assert all(check.ok for check in checks), [check.line() for check in checks]
    assert checks[0].detail == "found (environment)"
    assert control.stats()[provider]["batches_created"] == 0


def test_vertex_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "p")
    monkeypatch.setenv("INTERVIEWS_GCS_BUCKET", "b")
    plain = VertexBatchSettings.from_env()
    assert (plain.api_endpoint, plain.storage_endpoint, plain.access_token) == (None, None, None)
    monkeypatch.setenv("GOOGLE_VERTEX_BASE_URL", "http://127.0.0.1:9/vertex")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:10")
    monkeypatch.setenv("GOOGLE_OAUTH_ACCESS_TOKEN", "t")
    pointed = VertexBatchSettings.from_env()
    assert pointed.api_endpoint == "http://127.0.0.1:9/vertex"
    assert pointed.storage_endpoint == "http://127.0.0.1:10"
    assert pointed.access_token is not None and pointed.access_token.get_secret_value() == "t"


class _Context:
    """The one thing `_backoff` asks of a run's context."""

    def __init__(self, loopback: bool) -> None:
        self.loopback = loopback

    def on_loopback(self) -> bool:
        return self.loopback


def test_loopback_runs_poll_at_once_unless_the_settings_say_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert on_loopback(AnthropicCredentials(api_key="k", base_url="http://127.0.0.1:8787/a"))
    assert on_loopback(VertexBatchSettings(project="p", bucket="b", api_endpoint="localhost:1"))
    assert not on_loopback(AnthropicCredentials(api_key="k"))  # the provider's own URL
    assert not on_loopback(AnthropicCredentials(api_key="k", base_url="https://api.x.com"))
    for name in ("INTERVIEWS_POLL_INITIAL_SECONDS", "INTERVIEWS_POLL_MAX_SECONDS"):
        monkeypatch.delenv(name)
    defaults = Settings()
    assert _backoff(defaults, _Context(True)) == LOOPBACK_BACKOFF  # type: ignore[arg-type]
    assert _backoff(defaults, _Context(False)).initial == 30.0  # type: ignore[arg-type]
    monkeypatch.setenv("INTERVIEWS_POLL_INITIAL_SECONDS", "5")
    chosen = _backoff(Settings(), _Context(True))  # type: ignore[arg-type]
    assert chosen.initial == 5.0


def test_serve_prints_the_export_lines_before_serving() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "interviews", "emulator", "serve", "--port", str(port),
         "--processing-seconds", "5"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline() for _ in range(8)]
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    exports = [line.strip() for line in lines if line.startswith("export ")]
    assert len(exports) == 4
    assert f"ANTHROPIC_BASE_URL=http://127.0.0.1:{port}/anthropic" in exports[0]
    assert "GOOGLE_VERTEX_BASE_URL=" in exports[3] and "STORAGE_EMULATOR_HOST=" in exports[3]
