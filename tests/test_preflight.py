"""`interviews check` against the emulator: a good key, a refused key, a model the provider does
not serve, an unwritable bucket and a budget, all without creating a batch."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from blocks.credentials import emulator_blocks
from interviews.preflight import run_checks

MODELS = {
    "anthropic": "claude-sonnet-5-5",
    "openai": "gpt-6.1-terra",
    "vertex": "gemini-3.5-flash",
    "gemini": "gemini-3.8-flash",
}


def _check(emu, provider: str, model: str | None = None, **options):
    credentials = (
        options.pop("credentials", None) or emulator_blocks(emu.url, emu.gcs_url)[provider]
    )
    checks = run_checks(
        provider,
        model or MODELS[provider],
        credentials_block=None,
        credentials=credentials,
        count=options.pop("count", 100),
        max_cost=options.pop("max_cost", None),
    )
    return {check.name: check for check in checks}


@pytest.mark.parametrize("provider", sorted(MODELS))
def test_a_good_setup_passes_every_check_and_spends_nothing(emu, control, provider: str) -> None:
    checks = _check(emu, provider, max_cost=50)
    assert all(check.ok for check in checks.values()), [c.line() for c in checks.values()]
    expected = ["credentials", "key and model", "batch", "cost"]
    if provider == "vertex":
        expected.insert(3, "storage")  # the staging bucket: one object written and deleted
    assert list(checks) == expected
    assert f"{MODELS[provider]} is served" in checks["key and model"].detail
    stats = control.stats()[provider]
    assert stats["batches_created"] == 0 and stats["requests_received"] == 0
    if provider == "vertex":
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        client = storage.Client(
            project="p", credentials=AnonymousCredentials(),
            client_options={"api_endpoint": emu.gcs_url},
        )  # fmt: skip
        assert list(client.list_blobs("interviews-emulator", retry=None)) == []  # deleted


@pytest.mark.parametrize("provider", sorted(MODELS))
def test_a_refused_key_is_named_and_nothing_else_is_asked_of_it(
    emu, control, provider: str
) -> None:
    control.set_faults(
        http=[{"provider": provider, "method": "GET", "path": "models/", "status": 401}]
    )
    checks = _check(emu, provider)
    assert not checks["key and model"].ok
    assert "the key was refused (HTTP 401)" in checks["key and model"].detail
    assert checks["credentials"].ok


@pytest.mark.parametrize(
    ("provider", "model", "catalog_ok"),
    [
        ("openai", "gpt-9", False),  # known to neither the catalog nor the provider
        ("anthropic", "claude-opus-4-1-20250805", True),  # retired 2026-08-05: 404, no batch
        ("gemini", "gemini-9-flash", False),
        ("vertex", "gemini-9-pro", False),
    ],
)
def test_a_model_the_provider_does_not_serve_fails_its_check(
    emu, provider: str, model: str, catalog_ok: bool
) -> None:
    checks = _check(emu, provider, model)
    assert "the provider does not serve" in checks["key and model"].detail
    assert not checks["key and model"].ok
    if catalog_ok:
        assert not checks["batch"].ok and "retired on 2026-08-05" in checks["batch"].detail
    else:
        assert not checks["catalog"].ok and "cost" not in checks  # no price to check


def test_an_unwritable_bucket_fails_the_storage_check(emu) -> None:
    block = emulator_blocks(emu.url, emu.gcs_url)["vertex"].model_copy(
        update={"bucket": "no-such-bucket"}
    )
    checks = _check(emu, "vertex", credentials=block)
    assert checks["key and model"].ok
    assert not checks["storage"].ok
    assert "the staging bucket is not writable" in checks["storage"].detail
    assert "no-such-bucket" in checks["storage"].detail


def test_an_estimate_over_the_budget_fails_the_cost_check(emu) -> None:
    # 10,000 x (3,000 in, 2,000 out) on Claude Sonnet 5.5 in batch: $130
    checks = _check(emu, "anthropic", count=10_000, max_cost=100)
    assert not checks["cost"].ok
    assert checks["cost"].line() == (
        "✗ cost: 10,000 interviews estimated at $130.00 (batch), over --max-cost $100.00"
    )
    assert _check(emu, "anthropic", count=10_000, max_cost=130)["cost"].ok


def test_the_command_prints_one_line_per_check_and_exits_1_on_a_failure(emu) -> None:
    env = {
        **os.environ,
        "ANTHROPIC_API_KEY": "emulator-key",
        "ANTHROPIC_BASE_URL": emu.anthropic_base_url,
    }
    command = [sys.executable, "-m", "interviews", "check", "-p", "anthropic", "--count", "10000"]
    good = subprocess.run(
        [*command, "--max-cost", "250"], capture_output=True, text=True, env=env, timeout=60
    )
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.splitlines() == [
        "✓ credentials: found (environment)",
        "✓ key and model: claude-sonnet-5-5 is served (GET /v1/models/claude-sonnet-5-5)",
        "✓ batch: Claude Sonnet 5.5 takes batches",
        "✓ cost: 10,000 interviews estimated at $130.00 (batch), under --max-cost $250.00",
    ]
    bad = subprocess.run(
        [*command, "--max-cost", "100"], capture_output=True, text=True, env=env, timeout=60
    )
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stdout.splitlines()[-1].startswith("✗ cost:")
    assert "emulator-key" not in bad.stdout + bad.stderr
