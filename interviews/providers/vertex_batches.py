"""Vertex AI batch prediction (Gemini) through `google-cloud-aiplatform` and
`google-cloud-storage`.

Wire facts (shared/PROVIDERS.md §3): each input line is `{"request": GenerateContentRequest}`;
no id survives to the output except what the request carries, so the custom id travels in
`request.labels.custom_id`. The input is a JSONL object in GCS; results are every `*.jsonl`
under `outputInfo.gcsOutputDirectory`, in no particular order, success lines with an empty
`status` and a `response`, failure lines with a non-empty `status`. At most 200,000 requests and
1 GB per job; a job may queue up to 72 h and then run up to 24 h.

The job service is used through its GAPIC `JobServiceClient` with an explicit retry and timeout
on every call: the higher-level helpers retry for up to 120 s and poll every 5 s on their own.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from interviews.batch_types import (
    BatchJob,
    OutcomeStatus,
    RequestCounts,
    RequestError,
    RequestOutcome,
)
from interviews.errors import UnknownBatchStatusError
from interviews.jsonl import atomic_writer
from interviews.providers.base import BatchAdapter, BatchTag, CacheMode, FoundBatch, label_value
from interviews.providers.google_common import (
    JOB_STATE_MAP,
    answered_outcome,
    continue_request,
)
from interviews.providers.sdk_errors import connection_error, credentials_refused, status_error
from interviews.redaction import register_secret, scrub_exception
from interviews.requests import CanonicalRequest

PROVIDER = "vertex"

_STATUS_MAP = JOB_STATE_MAP

_LABEL_RUN, _LABEL_CHUNK = "interviews-run", "interviews-chunk"
_LABEL_OWNER = "interviews-owner"  # the chunk's ownership tag (see BatchTag.owner), lowercased


def _to_job(job: Any) -> BatchJob:
    """Normalize an `aiplatform_v1.BatchPredictionJob`."""
    raw = job.state.name
    if raw not in _STATUS_MAP:
        raise UnknownBatchStatusError(
            f"Vertex job {job.name} has state {raw!r}, which this version of interviews does "
            "not know; upgrade interviews"
        )
    stats = job.completion_stats
    counts = RequestCounts(
        processing=stats.incomplete_count if stats else 0,
        succeeded=stats.successful_count if stats else 0,
        errored=stats.failed_count if stats else 0,
    )
    errors = (f"{job.error.message} (code {job.error.code})",) if job.error.message else ()
    return BatchJob(
        provider=PROVIDER,
        batch_id=job.name,
        status=_STATUS_MAP[raw],
        provider_status=raw,
        counts=counts,
        created_at=job.create_time or None,
        expires_at=None,
        ended_at=job.end_time or None,
        errors=errors,
    )


@contextlib.contextmanager
def _google_errors(action: str) -> Iterator[None]:
    """Translate google-api-core and transport exceptions into our tree, by status code; the
    SDK error is scrubbed of secrets, as in `sdk_errors`."""
    import requests
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as auth_exceptions

    try:
        yield
    except auth_exceptions.RefreshError as exc:
        raise credentials_refused(
            provider=PROVIDER, label="Vertex AI", action=action, key_var="the GCP credentials"
        ) from scrub_exception(exc)
    except gexc.GoogleAPICallError as exc:
        status = exc.code if isinstance(exc.code, int) else 500
        raise status_error(
            provider=PROVIDER,
            label="Vertex AI",
            key_var="the GCP credentials",
            action=action,
            status=status,
            detail=exc.message or type(exc).__name__,
            request_id=None,
        ) from scrub_exception(exc)
    except (gexc.RetryError, requests.exceptions.RequestException) as exc:
        raise connection_error(
            provider=PROVIDER, label="Vertex AI", action=action, name=type(exc).__name__
        ) from scrub_exception(exc)


def outcome_from_line(value: dict[str, Any]) -> RequestOutcome:
    """Normalize one prediction line `{"status", "request", "response"?}`.

    Raises:
        KeyError/TypeError/ValueError: the line does not have Vertex's batch output shape.
    """
    custom_id = value["request"]["labels"]["custom_id"]
    status = value.get("status") or ""
    response = value.get("response")
    if status or response is None:
        # Vertex gives only a message here, no code; failed requests are not billed, so they
        # are offered to a retry round rather than guessed permanent.
        return RequestOutcome(
            custom_id=custom_id,
            status=OutcomeStatus.ERRORED,
            error=RequestError(
                kind="vertex_error", message=status or "no response", transient=True
            ),
        )
    return answered_outcome(custom_id, response)


def _md5_base64(path: Path) -> str:
    """The file's MD5 as GCS reports it (base64), to recognise an earlier upload."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return base64.b64encode(digest.digest()).decode()


class VertexBatchAdapter(BatchAdapter):
    """Vertex AI batch prediction jobs with GCS staging.

    Args:
        project: GCP project id.
        location: Vertex region, e.g. "us-central1" (or "global").
        bucket: GCS bucket for inputs and outputs.
        prefix: folder inside the bucket.
        credentials: `google.auth` credentials; None means Application Default Credentials.
        api_endpoint: Vertex API root (e.g. an emulator's URL); None means the regional host.
        storage_endpoint: GCS API root (e.g. an emulator's URL); None means the real GCS.
        timeout: per-call timeout in seconds.
    """

    provider = PROVIDER
    max_requests = 200_000
    max_bytes = 1_000_000_000
    window = timedelta(hours=96)

    def __init__(
        self,
        *,
        project: str,
        location: str,
        bucket: str,
        prefix: str = "interviews",
        credentials: Any = None,
        api_endpoint: str | None = None,
        storage_endpoint: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        from google.api_core import retry as gretry
        from google.api_core.client_options import ClientOptions
        from google.cloud import aiplatform_v1, storage

        # a refusal may echo the access token: redact it from every message
        register_secret(getattr(credentials, "token", None))

        host = (
            "aiplatform.googleapis.com"
            if location == "global"
            else (f"{location}-aiplatform.googleapis.com")
        )
        self._jobs = aiplatform_v1.JobServiceClient(
            transport="rest",
            credentials=credentials,
            client_options=ClientOptions(api_endpoint=api_endpoint or host),
        )
        self._credentials = credentials
        self._api_options = ClientOptions(api_endpoint=api_endpoint or host)
        storage_options = {"api_endpoint": storage_endpoint} if storage_endpoint else None
        self._storage = storage.Client(
            project=project, credentials=credentials, client_options=storage_options
        )
        self._aiplatform = aiplatform_v1
        self._predictions: Any = None
        self._parent = f"projects/{project}/locations/{location}"
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        self._timeout = timeout
        # One retry owner per call: reads and idempotent writes retry briefly on 429/5xx and
        # connection errors; the job create is never retried (see `create`).
        self._retry = gretry.Retry(
            predicate=gretry.if_transient_error, initial=0.5, maximum=8.0, timeout=60.0
        )

    @staticmethod
    def build_line(
        request: CanonicalRequest,
        *,
        model: str,
        max_tokens: int,
        endpoint: str | None = None,
        cache: CacheMode = None,
    ) -> dict[str, Any]:
        """`{"request": GenerateContentRequest}` with the custom id in `labels` (the model is
        set on the job, so `model` is unused here). Vertex AI caches a repeated prompt prefix
        implicitly, even in batch jobs, so `cache` adds nothing."""
        return {
            "request": {
                "contents": [{"role": "user", "parts": [{"text": request.first_question}]}],
                "systemInstruction": {"parts": [{"text": request.system_message}]},
                "generationConfig": {"maxOutputTokens": max_tokens},
                "labels": {"custom_id": request.custom_id},
            }
        }

    def _object_name(self, tag: BatchTag, leaf: str) -> str:
        return f"{self._prefix}/{label_value(tag.run_id)}/{label_value(tag.chunk_key)}/{leaf}"

    @staticmethod
    def continue_line(
        line: dict[str, Any], answer: str, question: str, *, last: bool = False
    ) -> dict[str, Any]:
        """The line with `answer` (role `model`) and `question` appended to `contents`."""
        return {**line, "request": continue_request(line["request"], answer, question)}

    def create(self, lines_path: Path, *, tag: BatchTag) -> BatchJob:
        """Upload the chunk to GCS (idempotent: same object name) and create one job."""
        input_name = self._object_name(tag, f"input-{tag.fingerprint[:12]}.jsonl")
        output_prefix = f"gs://{self._bucket}/{self._object_name(tag, 'output')}"
        with _google_errors("input upload to GCS"):
            blob = self._storage.bucket(self._bucket).get_blob(
                input_name, retry=self._retry, timeout=self._timeout
            )
            # an interrupted run may have uploaded this very file already: keep it
            if blob is None or blob.md5_hash != _md5_base64(lines_path):
                blob = self._storage.bucket(self._bucket).blob(input_name)
                blob.upload_from_filename(
                    str(lines_path),
                    content_type="application/jsonl",
                    retry=self._retry,
                    timeout=self._timeout,
                )
        job = self._aiplatform.BatchPredictionJob(
            display_name=f"interviews-{label_value(tag.chunk_key)}"[:128],
            model=f"publishers/google/models/{tag.model}",
            input_config={
                "instances_format": "jsonl",
                "gcs_source": {"uris": [f"gs://{self._bucket}/{input_name}"]},
            },
            output_config={
                "predictions_format": "jsonl",
                "gcs_destination": {"output_uri_prefix": output_prefix},
            },
            labels={
                _LABEL_RUN: label_value(tag.run_id),
                _LABEL_CHUNK: label_value(tag.chunk_key),
                _LABEL_OWNER: label_value(tag.owner),
            },
        )
        with _google_errors("batch job create"):
            # retry=None: a retry after a lost answer would create a second job; the submit
            # step settles failures through the ledger and a lookup instead
            created = self._jobs.create_batch_prediction_job(
                parent=self._parent, batch_prediction_job=job, retry=None, timeout=self._timeout
            )
        return _to_job(created)

    def check_access(self, model: str) -> str:
        """`GET publishers/google/models/{model}` (Model Garden), with these credentials."""
        name = f"publishers/google/models/{model}"
        with _google_errors(f"model lookup of {model}"):
            # made here: only a preflight check needs Model Garden (its import costs time)
            models = self._aiplatform.ModelGardenServiceClient(
                transport="rest", credentials=self._credentials, client_options=self._api_options
            )
            models.get_publisher_model(name=name, retry=self._retry, timeout=self._timeout)
        return f"GET {name}"

    def count_input_tokens(self, line: dict[str, Any], model: str) -> int:
        """`POST …/publishers/google/models/{model}:countTokens` with the line's contents and
        system instruction."""
        request = line["request"]
        endpoint = f"{self._parent}/publishers/google/models/{model}"
        asked = {"endpoint": endpoint, "model": endpoint, "contents": request["contents"]}
        if request.get("systemInstruction"):
            asked["system_instruction"] = request["systemInstruction"]
        with _google_errors("token count"):
            if self._predictions is None:  # made on first use: only estimates count tokens
                self._predictions = self._aiplatform.LlmUtilityServiceClient(
                    transport="rest",
                    credentials=self._credentials,
                    client_options=self._api_options,
                )
            counted = self._predictions.count_tokens(
                request=asked, retry=self._retry, timeout=self._timeout
            )
        return counted.total_tokens

    def check_storage(self) -> str:
        """Write, then delete, one small object under the prefix of the staging bucket."""
        name = f"{self._prefix}/interviews-check/{uuid.uuid4().hex}.txt"
        with _google_errors(f"test write to gs://{self._bucket}"):
            blob = self._storage.bucket(self._bucket).blob(name)
            blob.upload_from_string(b"interviews check\n", retry=self._retry, timeout=self._timeout)
            blob.delete(retry=self._retry, timeout=self._timeout)
        return f"wrote and deleted gs://{self._bucket}/{name}"

    def retrieve(self, batch_id: str) -> BatchJob:
        """One job read."""
        with _google_errors(f"read of job {batch_id}"):
            return _to_job(
                self._jobs.get_batch_prediction_job(
                    name=batch_id, retry=self._retry, timeout=self._timeout
                )
            )

    def cancel(self, batch_id: str) -> BatchJob:
        """Ask Vertex to cancel; completed work is still written to the output folder."""
        with _google_errors(f"cancel of job {batch_id}"):
            self._jobs.cancel_batch_prediction_job(
                name=batch_id, retry=self._retry, timeout=self._timeout
            )
        return self.retrieve(batch_id)

    def download_results(self, batch_id: str, dest: Path) -> int:
        """Concatenate every `*.jsonl` under the job's output folder into `dest`, as returned."""
        with _google_errors(f"read of job {batch_id}"):
            job = self._jobs.get_batch_prediction_job(
                name=batch_id, retry=self._retry, timeout=self._timeout
            )
        directory = job.output_info.gcs_output_directory
        written, last = 0, b"\n"
        with (
            _google_errors(f"results download of job {batch_id}"),
            atomic_writer(dest, durable=True) as handle,
        ):
            if directory:
                bucket_name, _, prefix = directory.removeprefix("gs://").partition("/")
                blobs = self._storage.list_blobs(
                    bucket_name,
                    prefix=prefix.rstrip("/") + "/",
                    retry=self._retry,
                    timeout=self._timeout,
                )
                for blob in sorted(blobs, key=lambda b: b.name):
                    if not blob.name.endswith(".jsonl"):
                        continue
                    if last != b"\n":
                        handle.write(b"\n")
                        written += 1
                    with blob.open("rb", retry=self._retry, timeout=self._timeout) as reader:
                        for chunk in iter(lambda: reader.read(1 << 20), b""):
                            handle.write(chunk)
                            written += len(chunk)
                            last = chunk[-1:]
        return written

    def cleanup(self, batch_id: str) -> int:
        """Delete the job's staged input and its output objects from GCS."""
        with _google_errors(f"read of job {batch_id}"):
            job = self._jobs.get_batch_prediction_job(
                name=batch_id, retry=self._retry, timeout=self._timeout
            )
        deleted = 0
        with _google_errors(f"cleanup of job {batch_id}"):
            for uri in job.input_config.gcs_source.uris:
                bucket_name, _, name = uri.removeprefix("gs://").partition("/")
                blob = self._storage.bucket(bucket_name).get_blob(
                    name, retry=self._retry, timeout=self._timeout
                )
                if blob is not None:
                    blob.delete(retry=self._retry, timeout=self._timeout)
                    deleted += 1
            directory = job.output_info.gcs_output_directory
            if directory:
                bucket_name, _, prefix = directory.removeprefix("gs://").partition("/")
                for blob in self._storage.list_blobs(
                    bucket_name,
                    prefix=prefix.rstrip("/") + "/",
                    retry=self._retry,
                    timeout=self._timeout,
                ):
                    blob.delete(retry=self._retry, timeout=self._timeout)
                    deleted += 1
        return deleted

    outcome_from_line = staticmethod(outcome_from_line)

    @staticmethod
    def line_custom_id(line: dict[str, Any]) -> str:
        """The custom id carried by one of this provider's request lines."""
        return line["request"]["labels"]["custom_id"]

    def find_batches(self, tag: BatchTag) -> list[FoundBatch]:
        """Jobs labelled with this run and chunk."""
        run, chunk = label_value(tag.run_id), label_value(tag.chunk_key)
        found = []
        with _google_errors("job list"):
            pager = self._jobs.list_batch_prediction_jobs(
                request={
                    "parent": self._parent,
                    "filter": f'labels.{_LABEL_RUN}="{run}" AND labels.{_LABEL_CHUNK}="{chunk}"',
                },
                retry=self._retry,
                timeout=self._timeout,
            )
            for job in pager:
                labels = dict(job.labels)
                if (
                    labels.get(_LABEL_RUN) == run
                    and labels.get(_LABEL_CHUNK) == chunk
                    and labels.get(_LABEL_OWNER) == label_value(tag.owner)
                ):
                    found.append(FoundBatch(_to_job(job)))
        return found
