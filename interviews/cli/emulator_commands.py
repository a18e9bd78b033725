"""`interviews emulator ...`: the local provider emulator."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="The local emulator of the providers' batch APIs.")


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8787,
    host: Annotated[str, typer.Option(help="Loopback address to bind.")] = "127.0.0.1",
    processing_seconds: Annotated[
        float, typer.Option(help="How long a batch takes to end, in seconds.", min=0)
    ] = 1.0,
) -> None:
    """Serve the emulator in the foreground (Ctrl-C stops it), and print the `export` lines
    that point `interviews` (and each provider's SDK) at it.

    Base URLs: Anthropic `http://127.0.0.1:8787/anthropic`, OpenAI `.../openai/v1`, Vertex AI
    `.../vertex` (with a GCS emulator on the next port), Gemini API `.../gemini`.
    """
    from interviews.emulator.server import serve as run_server
    from interviews.errors import InputError

    try:
        run_server(host=host, port=port, processing_seconds=processing_seconds, announce=_announce)
    except ValueError as exc:  # a non-loopback address: the emulator never leaves this machine
        raise InputError(f"--host: {exc}") from None


def export_lines(url: str, gcs_url: str | None) -> list[str]:
    """Shell lines that point every provider's credentials (from the environment) at the
    emulator at `url`. The keys are placeholders the emulator accepts, not secrets."""
    from interviews.emulator.gcs import DEFAULT_BUCKET

    lines = [
        f"export ANTHROPIC_API_KEY=emulator-key ANTHROPIC_BASE_URL={url}/anthropic",
        f"export OPENAI_API_KEY=emulator-key OPENAI_BASE_URL={url}/openai/v1",
        f"export GEMINI_API_KEY=emulator-key GOOGLE_GEMINI_BASE_URL={url}/gemini",
    ]
    if gcs_url is not None:  # Vertex AI stages its batches in Cloud Storage
        lines.append(
            "export GOOGLE_CLOUD_PROJECT=emulator-project "
            f"INTERVIEWS_GCS_BUCKET={DEFAULT_BUCKET} GOOGLE_OAUTH_ACCESS_TOKEN=emulator-token "
            f"GOOGLE_VERTEX_BASE_URL={url}/vertex STORAGE_EMULATOR_HOST={gcs_url}"
        )
    return lines


def _announce(url: str, gcs_url: str | None) -> None:
    """What `serve` prints before it serves: where each provider is, and how to use it."""
    typer.echo(
        f"Emulator on {url}: Anthropic at /anthropic, OpenAI at /openai/v1, Vertex AI at "
        "/vertex, Gemini API at /gemini. In another terminal, paste:\n"
    )
    for line in export_lines(url, gcs_url):
        typer.echo(line)
    sample = "data/sample/matched_personas.jsonl"
    typer.echo(f"\nthen, e.g.: uv run interviews run -p vertex --personas {sample} --count 5")
