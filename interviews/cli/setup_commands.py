"""Commands that prepare a Prefect server for `interviews`: setup (blocks, automations) and
serve (the deployments of prefect.yaml without a work pool)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from interviews.cli.data_commands import ModelOpt, Provider
from interviews.cli.output import console, print_table
from interviews.errors import ConfigurationError, InputError

ROOT = Path(__file__).resolve().parents[2]
# Flows whose failures the notification automation reports.
FLOW_NAMES = [
    "batch-interviews",
    "anthropic-batch",
    "openai-batch",
    "vertex-batch",
    "gemini-batch",
    "collect-batches",
]
ZOMBIE_AUTOMATION = "interviews: crash zombie flow runs"
FAILURE_AUTOMATION = "interviews: notify when a run fails"
BATCH_AUTOMATION = "interviews: notify when a batch ends"
# Prefect's flow-run heartbeat (PREFECT_FLOWS_HEARTBEAT_FREQUENCY, default 180 s): a run is a
# zombie after three missed beats.
HEARTBEAT_SECONDS = 180
# What `--ask` may prompt for (Vertex uses Application Default Credentials, never a key).
KEY_PROMPTS = {"anthropic": "Anthropic", "openai": "OpenAI", "gemini": "Gemini API"}


def register_block_types() -> list[str]:
    """Register the credential block types with the Prefect API (as `prefect block register
    -m blocks.credentials` does), so the UI can create them."""
    from blocks.credentials import CREDENTIAL_BLOCKS

    for block_cls in CREDENTIAL_BLOCKS.values():
        block_cls.register_type_and_schema()
    return [cls.get_block_type_slug() for cls in CREDENTIAL_BLOCKS.values()]


def save_environment_blocks(name: str, ask: bool) -> list[dict[str, str]]:
    """Save one block per provider from its standard environment variables (prompting for a
    missing API key with `ask`). Keys are never printed."""
    from blocks.credentials import CREDENTIAL_BLOCKS
    from interviews.settings import PROVIDER_ENV, require_credentials

    rows = []
    for provider, block_cls in CREDENTIAL_BLOCKS.items():
        slug = f"{block_cls.get_block_type_slug()}/{name}"
        try:
            require_credentials(provider, None)
            block = block_cls.from_env()
            source = "environment"
        except ConfigurationError:
            key = _ask_key(provider) if ask else ""
            if not key:
                needs = ", ".join(" or ".join(names) for names in PROVIDER_ENV[provider])
                rows.append({"block": slug, "result": f"skipped: set {needs}"})
                continue
            block = block_cls(api_key=key)
            source = "prompt"
        block.save(name, overwrite=True)
        rows.append({"block": slug, "result": f"saved (from the {source})"})
    return rows


def _ask_key(provider: str) -> str:
    """A hidden prompt for the provider's API key; empty skips the provider."""
    if provider not in KEY_PROMPTS:
        return ""
    label = f"{KEY_PROMPTS[provider]} API key (empty to skip)"
    return typer.prompt(label, default="", hide_input=True, show_default=False).strip()


def save_emulator_blocks(url: str, gcs_url: str, name: str = "emulator") -> list[dict[str, str]]:
    """Save one block per provider pointing at a running emulator (the demo's setup)."""
    from blocks.credentials import emulator_blocks

    rows = []
    for block in emulator_blocks(url.rstrip("/"), gcs_url.rstrip("/")).values():
        block.save(name, overwrite=True)
        rows.append({"block": f"{block.get_block_type_slug()}/{name}", "result": f"→ {url}"})
    return rows


def _replace_automation(automation: Any) -> None:
    """Create the automation, replacing any of the same name (setup can run again)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        for existing in client.read_automations_by_name(automation.name):
            client.delete_automation(existing.id)
    automation.create()


def create_automations(notify_block: str | None, block_id: Any = None) -> list[dict[str, str]]:
    """The zombie-run automation, and with `notify_block` (`TYPE-SLUG/NAME` of a Prefect
    notification block, whose document id is `block_id`) notifications of failed runs and
    ended batches."""
    from prefect.automations import Automation
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState, SendNotification
    from prefect.events.schemas.automations import EventTrigger, Posture

    _replace_automation(
        Automation(
            name=ZOMBIE_AUTOMATION,
            description="A flow run that stopped sending heartbeats (its process was killed) "
            "is marked Crashed, so it does not look Running forever.",
            trigger=EventTrigger(
                after={"prefect.flow-run.heartbeat"},
                expect={
                    "prefect.flow-run.heartbeat",
                    "prefect.flow-run.Completed",
                    "prefect.flow-run.Failed",
                    "prefect.flow-run.Cancelled",
                    "prefect.flow-run.Crashed",
                },
                match={"prefect.resource.id": ["prefect.flow-run.*"]},
                for_each={"prefect.resource.id"},
                posture=Posture.Proactive,
                threshold=1,
                within=timedelta(seconds=3 * HEARTBEAT_SECONDS),
            ),
            actions=[
                ChangeFlowRunState(
                    state=StateType.CRASHED,
                    message="Marked crashed: no heartbeat for three intervals. This flow run "
                    "is named after its run id: Retry it here, or re-run that run id "
                    "(`interviews run --run-id NAME`), to resume; the ledger prevents paying "
                    "twice.",
                )
            ],
        )
    )
    rows = [{"automation": ZOMBIE_AUTOMATION, "result": "created"}]
    if notify_block is None:
        rows.append(
            {
                "automation": f"{FAILURE_AUTOMATION}; {BATCH_AUTOMATION}",
                "result": "skipped: pass --notify-block TYPE/NAME (e.g. slack-webhook/team)",
            }
        )
        return rows
    _replace_automation(
        Automation(
            name=FAILURE_AUTOMATION,
            trigger=EventTrigger(
                expect={
                    "prefect.flow-run.Failed",
                    "prefect.flow-run.Crashed",
                    "prefect.flow-run.TimedOut",
                },
                match_related={
                    "prefect.resource.role": "flow",
                    "prefect.resource.name": FLOW_NAMES,
                },
                posture=Posture.Reactive,
                threshold=1,
            ),
            actions=[
                SendNotification(
                    block_document_id=block_id,
                    subject="interviews: flow run {{ flow_run.name }} {{ flow_run.state.name }}",
                    body="{{ flow.name }} / {{ flow_run.name }}: {{ flow_run.state.name }}: "
                    "{{ flow_run.state.message }}",
                )
            ],
        )
    )
    _replace_automation(
        Automation(
            name=BATCH_AUTOMATION,
            trigger=EventTrigger(
                expect={"interviews.batch.ended"},
                match={"prefect.resource.id": "interviews.batch.*"},
                posture=Posture.Reactive,
                threshold=1,
            ),
            actions=[
                SendNotification(
                    block_document_id=block_id,
                    subject="interviews: batch {{ event.payload.status }}",
                    body="{{ event.payload.provider }} batch {{ event.resource.name }} of run "
                    "{{ event.payload.run_id }}: {{ event.payload.status }}",
                )
            ],
        )
    )
    rows += [
        {"automation": FAILURE_AUTOMATION, "result": f"created → {notify_block}"},
        {"automation": BATCH_AUTOMATION, "result": f"created → {notify_block}"},
    ]
    return rows


def _notification_block_id(reference: str) -> Any:
    """The document id of a saved notification block, `TYPE-SLUG/NAME`."""
    from prefect.blocks.core import Block

    if "/" not in reference:
        raise InputError(
            f"--notify-block {reference!r}: give TYPE-SLUG/NAME, e.g. slack-webhook/team"
        )
    try:
        block = Block.load(reference)
    except (ValueError, KeyError) as exc:
        raise InputError(
            f"--notify-block {reference!r}: no such block; create the notification block in the "
            "Prefect UI (Blocks) first"
        ) from exc
    return block._block_document_id


def setup(
    block_name: Annotated[
        str, typer.Option(help="Name of the credential blocks saved from the environment.")
    ] = "default",
    ask: Annotated[
        bool, typer.Option(help="Prompt (hidden) for API keys the environment does not have.")
    ] = False,
    emulator: Annotated[
        str | None,
        typer.Option(help="Also save `emulator` blocks for an emulator at this URL."),
    ] = None,
    emulator_gcs: Annotated[
        str | None,
        typer.Option(help="The emulator's GCS URL (default: the emulator's port + 1)."),
    ] = None,
    automations: Annotated[
        bool, typer.Option(help="Create the zombie-run (and notification) automations.")
    ] = True,
    notify_block: Annotated[
        str | None,
        typer.Option(help="Notification block TYPE-SLUG/NAME for failed runs and ended batches."),
    ] = None,
) -> None:
    """Prepare the Prefect server at PREFECT_API_URL: register the credential block types, save
    blocks from the providers' environment variables (or `--ask`), optionally point `emulator`
    blocks at a local emulator, and create the automations. Safe to run again.
    """
    if not os.environ.get("PREFECT_API_URL"):
        console.print(
            "[yellow]note:[/yellow] PREFECT_API_URL is not set: blocks go to a temporary "
            "Prefect server that is gone when this command ends. Start `prefect server start` "
            "and set PREFECT_API_URL first."
        )
    # a wrong notification block is reported before anything is saved
    block_id = _notification_block_id(notify_block) if automations and notify_block else None
    types = register_block_types()
    blocks = [{"block": slug, "result": "type registered"} for slug in types]
    blocks += save_environment_blocks(block_name, ask)
    if emulator:
        blocks += save_emulator_blocks(emulator, emulator_gcs or _next_port(emulator))
    print_table("Blocks", blocks)
    if automations:
        print_table("Automations", create_automations(notify_block, block_id))


def _next_port(url: str) -> str:
    """`http://127.0.0.1:8787` → `http://127.0.0.1:8788` (where `emulator serve` puts GCS)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.port is None:
        raise InputError(f"--emulator {url!r}: give the URL with its port")
    return f"{parts.scheme}://{parts.hostname}:{parts.port + 1}"


def serve(
    limit: Annotated[int, typer.Option(help="Flow runs at once.")] = 4,
) -> None:
    """Serve every deployment of prefect.yaml from this process, without a work pool.

    Schedules stay as prefect.yaml sets them and are kept when this process stops (runs due
    meanwhile go Late and start when it serves again).
    """
    import yaml
    from prefect import serve as prefect_serve
    from prefect.flows import load_flow_from_entrypoint
    from prefect.schedules import Cron

    config = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    deployments = []
    for spec in config["deployments"]:
        flow = load_flow_from_entrypoint(str(ROOT / spec["entrypoint"]))
        schedules = [
            Cron(item["cron"], timezone=item.get("timezone"), active=item.get("active", True))
            for item in spec.get("schedules") or []
        ]
        deployments.append(
            flow.to_deployment(
                name=spec["name"],
                description=spec.get("description"),
                tags=spec.get("tags"),
                parameters=spec.get("parameters") or {},
                schedules=schedules or None,
                concurrency_limit=spec.get("concurrency_limit"),
            )
        )
    prefect_serve(*deployments, limit=limit, pause_on_shutdown=False)


def check(
    provider: Provider,
    model: ModelOpt = None,
    credentials_block: Annotated[
        str | None,
        typer.Option(help="Saved credentials block (default: the provider's API key env var)."),
    ] = None,
    count: Annotated[
        int, typer.Option(help="Interviews the run will ask (for the estimate).")
    ] = 100,
    max_cost: Annotated[
        float | None, typer.Option(help="Fail if the run's estimated batch cost (USD) is higher.")
    ] = None,
) -> None:
    """Check, spending nothing, that a run can go: credentials, the key and the model at the
    provider, batch support, the staging bucket (Vertex AI) and the estimate under --max-cost.
    One line per check; exits 1 if any fails."""
    from interviews.catalog import check_provider
    from interviews.preflight import run_checks
    from interviews.spec import DEFAULT_MODEL

    check_provider(provider)
    if count < 1:
        raise InputError(f"--count must be >= 1, got {count}")
    checks = run_checks(
        provider,
        model or DEFAULT_MODEL[provider],
        credentials_block=credentials_block,
        count=count,
        max_cost=max_cost,
    )
    for item in checks:
        console.print(item.line(), highlight=False, markup=False, soft_wrap=True)
    if not all(item.ok for item in checks):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command()(setup)
    app.command()(serve)
    app.command()(check)
