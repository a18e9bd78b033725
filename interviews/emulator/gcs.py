"""Google Cloud Storage for the emulator: gcp-storage-emulator in-process, and gs:// object I/O.

`GcsServer` serves gcp-storage-emulator on a loopback port (PROVIDERS.md Part 2 §3), in memory
or, for runs larger than memory, in a folder, so `google-cloud-storage` runs unchanged against
`client_options={"api_endpoint": url}`.
Each connection has its own thread and the store is locked per request, so a client download
held by a fault (`on_download`) stalls nobody else.
`GcsObjects` is how the Vertex emulator reads batch input and writes predictions: through the
real storage client, like the service, but with its 120 s default retry turned off. Both import
their dependencies lazily: importing the emulator must stay cheap.
"""

import socket
import sys
import threading
from collections.abc import Callable
from functools import partial
from http.server import HTTPServer, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote

DEFAULT_BUCKET = "interviews-emulator"
_TIMEOUT = 10.0
# Marks the emulator's own calls (reading job input, writing predictions), so only client
# uploads are counted and only client downloads meet faults.
OWN_WRITE_HEADER = "x-interviews-emulator-write"

DownloadHook = Callable[[str], int | None]
"""Called with a client download's path (object name decoded) before it is served; it may
block (a held call) and may return an HTTP error status to answer with instead."""


class GcsError(Exception):
    """A gs:// read or write failed; the message says which object and why."""


class GcsUnavailableError(RuntimeError):
    """gcp-storage-emulator is not installed."""


def split_uri(uri: str) -> tuple[str, str]:
    """`gs://bucket/path/to/object` → `("bucket", "path/to/object")`, or `GcsError`."""
    if not uri.startswith("gs://"):
        raise GcsError(f"{uri!r} is not a Cloud Storage URI (gs://bucket/object).")
    bucket, _, name = uri[len("gs://") :].partition("/")
    if not bucket:
        raise GcsError(f"{uri!r} names no bucket.")
    return bucket, name


def _is_upload(method: str, target: str) -> bool:
    """Whether a successful request created an object from client bytes (JSON or XML API)."""
    path, _, query = target.partition("?")
    if method == "POST" and "uploadType=resumable" in query:
        return False  # a resumable session starts; its final PUT creates the object
    if path.startswith("/upload/storage/v1/b/"):
        return method in ("POST", "PUT")
    if method == "POST":
        return "uploadType=" in query and path.endswith("/o")
    # XML API: PUT /<bucket>/<object>
    return method == "PUT" and not path.startswith(("/storage/", "/b/")) and path.count("/") >= 2


def download_path(target: str) -> str | None:
    """The path (object name decoded) of a GET that reads an object's bytes, else None.

    The JSON API reads media at `/download/storage/v1/b/…/o/…` or with `alt=media`.
    """
    path, _, query = target.partition("?")
    if path.startswith("/download/") or "alt=media" in query.split("&"):
        return unquote(path)
    return None


def _handler(
    base: type, on_upload: Callable[[], None] | None, on_download: DownloadHook | None
) -> type:
    """A gcp-storage-emulator request handler that locks the store for each request, reports
    each client upload and runs `on_download` (outside the lock) before each client download.
    """

    class Handler(base):  # type: ignore[misc, valid-type]
        status = 0
        server: "_LockedHTTPServer"

        def setup(self) -> None:
            super().setup()
            # The handler writes headers and body in separate small writes: without
            # TCP_NODELAY, Nagle's algorithm and the client's delayed ACK add ~40 ms to
            # every request (a data dir on this bucket makes thousands of them).
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def send_response(self, code: int, message: str | None = None) -> None:
            self.status = code
            super().send_response(code, message)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = download_path(self.path)
            if on_download is not None and path is not None and not self._own():
                status = on_download(path)
                if status is not None:
                    self._send_error(status)
                    return
            with self.server.lock:
                super().do_GET()

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            with self.server.lock:
                super().do_POST()
            self._report()

        def do_PUT(self) -> None:  # noqa: N802 (http.server's naming)
            with self.server.lock:
                super().do_PUT()
            self._report()

        def do_DELETE(self) -> None:  # noqa: N802 (http.server's naming)
            with self.server.lock:
                super().do_DELETE()

        def do_PATCH(self) -> None:  # noqa: N802 (http.server's naming)
            with self.server.lock:
                super().do_PATCH()

        def _own(self) -> bool:
            return bool(self.headers.get(OWN_WRITE_HEADER))

        def _report(self) -> None:
            if on_upload is None or self.status != 200 or self._own():
                return
            if _is_upload(self.command, self.path):
                on_upload()

        def _send_error(self, status: int) -> None:
            # The JSON API's error envelope, which google-api-core turns into its exceptions.
            body = (
                f'{{"error": {{"code": {status}, "message": "Injected fault (HTTP {status}).", '
                f'"errors": [{{"message": "Injected fault.", "reason": "injected"}}]}}}}'
            ).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


class _LockedHTTPServer(ThreadingHTTPServer):
    """An HTTPServer with a thread per connection whose requests and wipes exclude each other.

    gcp-storage-emulator's store is not thread-safe; one lock around each request (taken by
    the handler) and around `wipe` keeps a reset from racing an upload.
    """

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Any, family: socket.AddressFamily):
        self.address_family = family
        self.lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall on machines
        # without DNS; the name is never used.
        super(HTTPServer, self).server_bind()
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (a crash test killed it mid-download) is no server error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class GcsServer:
    """gcp-storage-emulator on a loopback port in a daemon thread: objects in memory, or in
    `data_dir` when given (a bench of a million interviews stores more than memory holds).

    `port=0` picks a free port; `.url` is known once `start()` returns. The default bucket
    exists from the start and survives `wipe()`. `on_upload` runs (on a server thread, after
    the request) for every object a client uploads; `on_download` (see `DownloadHook`) runs
    before every object read by a client, with the store not locked, so it may block.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        default_bucket: str = DEFAULT_BUCKET,
        on_upload: Callable[[], None] | None = None,
        on_download: DownloadHook | None = None,
        data_dir: Path | None = None,
    ) -> None:
        self.host = host
        self.data_dir = data_dir
        self.port = port
        self.default_bucket = default_bucket
        self._on_upload = on_upload
        self._on_download = on_download
        self._storage: Any = None
        self._httpd: _LockedHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Endpoint for `google.cloud.storage.Client(client_options={"api_endpoint": url})`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Self:
        """Create the store and the default bucket, bind, and serve."""
        if self._thread is not None:
            return self
        try:
            from gcp_storage_emulator.handlers.buckets import create_bucket
            from gcp_storage_emulator.server import RequestHandler
            from gcp_storage_emulator.storage import Storage
        except ImportError as exc:
            raise GcsUnavailableError(
                "the GCS emulator needs the `gcp-storage-emulator` package (uv dev group)"
            ) from exc
        if self.data_dir is None:
            self._storage = Storage(use_memory_fs=True)
        else:
            self._storage = _appending_storage(Storage)(
                use_memory_fs=False, data_dir=str(self.data_dir)
            )
        create_bucket(self.default_bucket, self._storage)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        handler = _handler(RequestHandler, self._on_upload, self._on_download)
        self._httpd = _LockedHTTPServer(
            (self.host, self.port), partial(handler, self._storage), family
        )
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="emulator-gcs", daemon=True
        )
        self._thread.start()
        return self

    def wipe(self) -> None:
        """Delete every object; buckets stay, and the default bucket is re-created if gone."""
        if self._httpd is None:
            return
        from gcp_storage_emulator.handlers.buckets import create_bucket

        with self._httpd.lock:
            self._storage.wipe(keep_buckets=True)
            if self.default_bucket not in self._storage.buckets:
                create_bucket(self.default_bucket, self._storage)

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=_TIMEOUT)
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _appending_storage(storage_cls: type) -> type:
    """gcp-storage-emulator's on-disk store with resumable uploads appended in place.

    The library rewrites the whole partial object for every part it receives (and reads it
    all back to answer each part), so a 4 GB upload in 8 MiB parts moved about a terabyte.
    Here each part is appended to the file and the byte count comes from its size; only the
    finished object is read whole, once, as the library stores it.
    """
    from gcp_storage_emulator.exceptions import BadRequest
    from gcp_storage_emulator.storage import RESUMABLE_DIR

    class AppendingStorage(storage_cls):  # type: ignore[misc, valid-type]
        def _partial(self, file_id: str) -> Path:
            return self._store._disk_path(self._object_path(RESUMABLE_DIR, self.safe_id(file_id)))

        def get_resumable_byte_count(self, file_id: str) -> int:
            partial = self._partial(file_id)
            return partial.stat().st_size if partial.is_file() else 0

        def add_to_resumable_upload(
            self,
            file_id: str,
            content: bytes,
            total_size: int | None = None,
            expected_start: int | None = None,
        ) -> bytes | None:
            partial = self._partial(file_id)
            size = partial.stat().st_size if partial.is_file() else 0
            if expected_start is not None and expected_start != size:
                raise BadRequest(
                    f"Invalid Content-Range start: expected {size}, got {expected_start}"
                )
            partial.parent.mkdir(parents=True, exist_ok=True)
            with partial.open("ab") as sink:
                sink.write(content or b"")
            size += len(content or b"")
            if total_size is None or size < total_size:
                return None
            with partial.open("rb") as source:
                return source.read(total_size)

    return AppendingStorage


class GcsObjects:
    """Read and write gs:// objects through google-cloud-storage against one endpoint.

    Calls are never retried (`retry=None`): the storage client's default retries for 120 s,
    which would stall a test or a poll for minutes when the endpoint is gone.
    """

    def __init__(self, endpoint: str, timeout: float = _TIMEOUT) -> None:
        self.endpoint = endpoint
        self._timeout = timeout
        self._client: Any = None

    def _bucket(self, name: str) -> Any:
        if self._client is None:
            from google.auth.credentials import AnonymousCredentials
            from google.cloud import storage

            self._client = storage.Client(
                project="emulator",
                credentials=AnonymousCredentials(),
                client_options={"api_endpoint": self.endpoint},
                extra_headers={OWN_WRITE_HEADER: "1"},
            )
        return self._client.bucket(name)

    def read(self, uri: str) -> bytes:
        """The object's bytes, or `GcsError` (missing object or bucket, endpoint down)."""
        from google.api_core import exceptions

        bucket, name = split_uri(uri)
        try:
            data: bytes = (
                self._bucket(bucket).blob(name).download_as_bytes(retry=None, timeout=self._timeout)
            )
        except exceptions.NotFound as exc:
            raise GcsError(f"{uri} does not exist.") from exc
        except Exception as exc:
            raise GcsError(f"Could not read {uri}: {exc}") from exc
        return data

    def write(self, uri: str, data: bytes, content_type: str = "application/jsonl") -> None:
        """Create or replace the object, or raise `GcsError`."""
        from google.api_core import exceptions

        bucket, name = split_uri(uri)
        try:
            self._bucket(bucket).blob(name).upload_from_string(
                data, content_type=content_type, retry=None, timeout=self._timeout
            )
        except exceptions.NotFound as exc:
            raise GcsError(f"Cannot write {uri}: bucket {bucket!r} does not exist.") from exc
        except Exception as exc:
            raise GcsError(f"Could not write {uri}: {exc}") from exc
