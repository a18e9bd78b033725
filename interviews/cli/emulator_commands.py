"""`interviews emulator ...`: the local provider emulator."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="The local emulator of the providers' batch APIs.")


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8787,
    host: Annotated[str, typer.Option(help="Loopback address to bind.")] = "127.0.0.1",
) -> None:
    """Serve the emulator in the foreground (Ctrl-C stops it).

    Point an SDK at it by base URL: Anthropic `http://127.0.0.1:8787/anthropic`, OpenAI
    `.../openai/v1`, Vertex AI `.../vertex` (with a GCS emulator on the next port), Gemini API
    `.../gemini`.
    """
    from interviews.emulator.server import serve as run_server
    from interviews.errors import InputError

    typer.echo(
        f"Emulator on http://{host}:{port}: Anthropic at /anthropic, OpenAI at /openai/v1, "
        "Vertex AI at /vertex, Gemini API at /gemini"
    )
    try:
        run_server(host=host, port=port)
    except ValueError as exc:  # a non-loopback address: the emulator never leaves this machine
        raise InputError(f"--host: {exc}") from None
