"""`interviews rerun MANIFEST`: a run's requests again, byte for byte, from its manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from interviews.cli.data_commands import DataDir, _dirs, same_run_command
from interviews.cli.output import console
from interviews.errors import InputError


def rerun(
    manifest: Annotated[
        Path, typer.Argument(help="A run's manifest: data/runs/RUN/manifest.json.")
    ],
    run_id: Annotated[
        str | None, typer.Option(help="The new run's id (default: a fresh one).")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Prepare a run's requests again from its manifest and check them byte for byte against
    it; nothing is sent. The templates and protocol come from the manifest's own text, the
    personas file must be unchanged. Prints the command that sends them."""
    from interviews.manifest import load_manifest, rerun_parameters
    from interviews.pipeline import prepare_run
    from interviews.preparation import new_run_id
    from interviews.settings import get_settings

    recorded = load_manifest(manifest)
    dirs = _dirs(str(data_dir) if data_dir else None)
    new_id = run_id or new_run_id(recorded["provider"])
    params = rerun_parameters(recorded, dirs.run(new_id) / "inputs", new_id)
    params = params.model_copy(update={"data_dir": str(data_dir) if data_dir else None})
    ledger = dirs.open_ledger(get_settings().ledger_url)
    plan = prepare_run(params, ledger=ledger, dirs=dirs)
    if plan.resumed:
        raise InputError(f"run {new_id} exists already; pass another --run-id")
    again = load_manifest(dirs.run(new_id) / "manifest.json")
    _same_requests(recorded, again, manifest)
    chunks = recorded["requests"]["chunks"]
    console.print(
        f"✓ run {new_id}: {sum(c['requests'] for c in chunks):,} requests in {len(chunks)} "
        f"file(s), identical byte for byte to run {recorded['run_id']}'s (sha256 "
        f"{recorded['requests']['canonical_sha256'][:12]}…); nothing was sent",
        highlight=False,
    )
    send = same_run_command(
        provider=params.provider,
        model=plan.model.id,
        personas=Path(params.personas),
        count=params.count,
        start_index=params.start_index,
        max_tokens=params.max_tokens,
        system_template=Path(params.system_template) if params.system_template else None,
        question_template=Path(params.question_template) if params.question_template else None,
        protocol=Path(params.protocol) if params.protocol else None,
        openai_endpoint=params.openai_endpoint,
        data_dir=data_dir,
        run_id=new_id,
    )
    console.print(f"To send them: uv run {send}", highlight=False, soft_wrap=True, markup=False)


def _same_requests(recorded: dict, again: dict, path: Path) -> None:
    """Raise an InputError naming the first request file that differs."""
    first, second = recorded["requests"], again["requests"]
    if first["canonical_sha256"] != second["canonical_sha256"]:
        raise InputError(
            "the requests differ from the manifest's (canonical request file sha256 "
            f"{second['canonical_sha256'][:12]}… ≠ {first['canonical_sha256'][:12]}…): the "
            "personas, templates or package versions behave differently now; compare "
            "`environment` in both manifests",
            path=str(path),
        )
    for old, new in zip(first["chunks"], second["chunks"], strict=False):
        if old["sha256"] != new["sha256"]:
            raise InputError(
                f"provider-ready file {new['file']} differs from the manifest's {old['file']} "
                "(same requests, other provider lines): compare `environment` and `parameters`",
                path=str(path),
            )
    if len(first["chunks"]) != len(second["chunks"]):
        raise InputError("the requests are split into another number of files", path=str(path))


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command()(rerun)
