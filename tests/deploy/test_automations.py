"""`interviews setup`'s automations on the real server: a failed run and an ended batch each
reach a notification block (a webhook on loopback), and the zombie-run automation exists."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from interviews.cli.setup_commands import BATCH_AUTOMATION, FAILURE_AUTOMATION, ZOMBIE_AUTOMATION
from tests.conftest import SAMPLE
from tests.deploy.conftest import BIN, PrefectStack, poll


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict]]]:
    """A loopback HTTP listener; yields its URL and the JSON bodies it received."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            received.append(json.loads(self.rfile.read(length) or b"{}"))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", received
    finally:
        server.shutdown()


def test_failed_runs_and_ended_batches_are_notified(
    stack: PrefectStack, control, webhook, tmp_path: Path
) -> None:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    url, received = webhook
    with stack.api():
        CustomWebhookNotificationBlock(
            name="test-hook", url=url, json_data={"text": "{{subject}} | {{body}}"}
        ).save("test-hook", overwrite=True)
    setup = stack.run(
        [str(BIN / "interviews"), "setup", "--notify-block", "custom-webhook/test-hook"]
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    with stack.client() as client:
        for name in (ZOMBIE_AUTOMATION, FAILURE_AUTOMATION, BATCH_AUTOMATION):
            assert client.read_automations_by_name(name), name

    control.set_faults(
        http=[
            {"provider": "openai", "method": "POST", "path": "/batches$", "status": 401, "count": 9}
        ]
    )
    params = {
        "personas": str(SAMPLE),
        "count": 2,
        "credentials_block": "emulator",
        "data_dir": str(tmp_path / "data"),
    }
    ok = stack.create_run(
        "batch-interviews/batch-interviews", {"params": {**params, "run_id": "notify-ok"}}
    )
    failed = stack.create_run(
        "batch-interviews/batch-interviews",
        {"params": {**params, "provider": "openai", "run_id": "notify-401"}},
    )
    assert stack.wait_for_run(ok).state.is_completed()
    assert stack.wait_for_run(failed).state.is_failed()

    def texts() -> list[str]:
        return [body.get("text", "") for body in received]

    poll(
        lambda: (
            any("batch" in t and "notify-ok" in t for t in texts())
            and any("Failed" in t for t in texts())
        ),
        90,
        "the batch-ended and run-failed notifications",
        interval=0.5,
    )
    assert any("anthropic batch" in t and "succeeded" in t for t in texts()), texts()
