"""A run's reproducibility manifest (`runs/{run_id}/manifest.json`), and reproducing its
requests from it.

Written when a run is prepared, it holds everything the requests were made from: the run's
parameters; the personas file's sha256 and the selection (count, start); the templates and the
protocol, text and sha256 (so a rerun never depends on the files still being there); the model
asked for and the model id sent; the prices the estimate and the report use; the sha256 of the
canonical request file and of every provider-ready chunk; and the versions of Python and of
the packages that shape a request or its cost.

`interviews rerun MANIFEST` prepares the same requests again from it (a new run id, nothing
sent) and checks them byte for byte against the manifest's hashes.
"""

from __future__ import annotations

import hashlib
import platform
from datetime import datetime
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import orjson

from interviews.catalog import ModelInfo
from interviews.datastore import local_input
from interviews.errors import InputError
from interviews.preparation import Prepared, file_sha256
from interviews.spec import BatchRunParameters

VERSION = 1
# What shapes a request line or its cost: the SDKs build no lines here, but their versions
# tell what the provider was sent and how its answer was read.
PACKAGES = (
    "interviews",
    "jinja2",
    "genai-prices",
    "anthropic",
    "openai",
    "google-genai",
    "google-cloud-aiplatform",
    "prefect",
)
_TEMPLATES = {"system_template": "system_message.j2", "question_template": "first_question.j2"}


def build_manifest(
    params: BatchRunParameters,
    run_id: str,
    model: ModelInfo,
    prepared: Prepared,
    *,
    personas_sha256: str,
    prices: dict[str, Any],
    created_at: datetime,
) -> dict[str, Any]:
    """The manifest of a run just prepared (see the module docstring).

    Args:
        params: the run's parameters, inputs as local files.
        prices: the batch and real-time prices at preparation (`describe_prices`).
    """
    inputs: dict[str, Any] = {}
    for field, default in _TEMPLATES.items():
        inputs[field] = _text_input(getattr(params, field), default)
    if params.protocol:
        inputs["protocol"] = _text_input(params.protocol, None)
    return {
        "manifest_version": VERSION,
        "run_id": run_id,
        "created_at": created_at.isoformat(timespec="seconds"),
        "provider": params.provider,
        "model": {"asked": params.model, "sent": model.id, "name": model.name},
        "parameters": orjson.loads(params.model_copy(update={"run_id": run_id}).model_dump_json()),
        "personas": {
            "path": params.personas,
            "sha256": personas_sha256,
            "count": params.count,
            "start_index": params.start_index,
            "selected": prepared.request_count,
        },
        "inputs": inputs,
        "prices": prices,
        "requests": {
            "canonical_sha256": file_sha256(prepared.requests_path),
            "chunks": [
                {
                    "file": chunk.path.name,
                    "sha256": file_sha256(chunk.path),
                    "requests": chunk.request_count,
                }
                for chunk in prepared.chunks
            ],
        },
        "environment": {
            "python": platform.python_version(),
            "packages": {name: _version(name) for name in PACKAGES},
        },
    }


def _text_input(path: str | None, default: str | None) -> dict[str, Any]:
    """A template's or protocol's file name, text and sha256 (a packaged default's too)."""
    if path is None:
        assert default is not None
        text = resources.files("interviews.templates").joinpath(default).read_text("utf-8")
        name = f"(default) {default}"
    else:
        text = local_input(path).read_text("utf-8")  # a gs:// input: its local copy
        name = path
    return {
        "file": name,
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "text": text,
    }


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def describe_prices(batch: Any, realtime: Any, at: datetime) -> dict[str, Any]:
    """The prices a run is estimated and reported at, per million tokens, as text."""

    def one(rates: Any) -> dict[str, str]:
        fields = ("input", "output", "cache_read", "cache_write", "cache_write_1h")
        return {name: str(getattr(rates, name)) for name in fields} | {"source": rates.source}

    return {"on": at.date().isoformat(), "batch": one(batch), "realtime": one(realtime)}


def load_manifest(path: Path) -> dict[str, Any]:
    """Read a manifest, or an InputError naming the file and the fix."""
    try:
        manifest = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise InputError(
            "manifest not found; it is runs/RUN/manifest.json", path=str(path)
        ) from None
    except orjson.JSONDecodeError:
        raise InputError("not a manifest (malformed JSON)", path=str(path)) from None
    if not isinstance(manifest, dict) or manifest.get("manifest_version") != VERSION:
        raise InputError(
            f"not a version-{VERSION} run manifest; use the manifest.json of a run",
            path=str(path),
        )
    return manifest


def rerun_parameters(manifest: dict[str, Any], folder: Path, run_id: str) -> BatchRunParameters:
    """The parameters that prepare the manifest's requests again as run `run_id`, with its
    templates and protocol written from the manifest's text into `folder`.

    Raises:
        InputError: the personas file is gone or changed since (its sha256 differs).
    """
    personas = manifest["personas"]
    path = Path(personas["path"])
    if not path.is_file():
        raise InputError(
            "the manifest's personas file is not there; put it back at this path",
            path=str(path),
        )
    if file_sha256(path) != personas["sha256"]:
        raise InputError(
            "the personas file changed since the run (its sha256 differs from the manifest's); "
            "the same requests need the same file",
            path=str(path),
        )
    folder.mkdir(parents=True, exist_ok=True)
    updates: dict[str, Any] = {"run_id": run_id, "preflight": False}
    for field, item in manifest["inputs"].items():
        if field in _TEMPLATES and item["file"].startswith("(default)"):
            updates[field] = None
            continue
        suffix = Path(item["file"]).suffix or ".txt"
        written = folder / f"{field}{suffix}"
        written.write_text(item["text"], encoding="utf-8")
        updates[field] = str(written)
    parameters = {**manifest["parameters"], **updates}
    return BatchRunParameters.model_validate(parameters)
