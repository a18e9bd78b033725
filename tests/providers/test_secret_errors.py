"""Each adapter, refused by a server that echoes the key: the error we raise, its whole
cause chain and its pickle hold no key, and the SDK's error type and status stay visible."""

from __future__ import annotations

import traceback
import uuid

import cloudpickle
import pytest
from google.oauth2.credentials import Credentials

from interviews.errors import PermanentProviderError
from interviews.providers.anthropic_batches import AnthropicBatchAdapter
from interviews.providers.gemini_batches import GeminiBatchAdapter
from interviews.providers.openai_batches import OpenAIBatchAdapter
from interviews.providers.vertex_batches import VertexBatchAdapter
from interviews.redaction import REDACTED

BATCH_IDS = {
    "anthropic": "msgbatch_01",
    "openai": "batch_01",
    "gemini": "batches/b01",
    "vertex": "projects/proj/locations/us-central1/batchPredictionJobs/1",
}


def _adapter(provider: str, key: str, emu):
    if provider == "anthropic":
        return AnthropicBatchAdapter(api_key=key, base_url=emu.anthropic_base_url, max_retries=0)
    if provider == "openai":
        return OpenAIBatchAdapter(api_key=key, base_url=emu.openai_base_url, max_retries=0)
    if provider == "gemini":
        return GeminiBatchAdapter(api_key=key, base_url=emu.gemini_base_url, attempts=1)
    return VertexBatchAdapter(
        project="proj",
        location="us-central1",
        bucket="b",
        credentials=Credentials(token=key),
        api_endpoint=emu.vertex_base_url,
        storage_endpoint=emu.gcs_url,
        timeout=10,
    )


@pytest.mark.parametrize("provider", list(BATCH_IDS))
def test_an_echoed_opaque_key_is_redacted_from_the_error_and_its_cause(
    emu, control, provider: str
) -> None:
    key = f"opaque{uuid.uuid4().hex}"  # no key shape: only knowing it catches it
    adapter = _adapter(provider, key, emu)
    # a 401 makes google-auth try to refresh the token first; a 403 comes straight back
    status = 403 if provider == "vertex" else 401
    control.set_faults(http=[{"provider": provider, "status": status, "echo_key": True}])
    with pytest.raises(PermanentProviderError) as caught:
        adapter.retrieve(BATCH_IDS[provider])
    error = caught.value
    assert error.status_code == status and f"HTTP {status}" in str(error)
    assert REDACTED in str(error)
    chain = "".join(traceback.format_exception(error))
    assert key not in chain
    cause = error.__cause__
    assert cause is not None and type(cause).__module__.split(".")[0] in (
        "anthropic",
        "openai",
        "google",
    )
    assert str(status) in str(cause) and REDACTED in str(cause)
    assert key.encode() not in cloudpickle.dumps(error) + cloudpickle.dumps(cause)
