"""A data directory in an object store (`gs://bucket/prefix`, `s3://…`, any fsspec URL).

The pipeline reads and writes plain local files: seeks into history files, appends to record
parts, atomic renames, exclusive names. For a remote data directory each process works in a
**workspace** of its own (a private temporary folder) that mirrors the part of the bucket it
needs, and the bucket stays the one copy that outlives the process:

- `fetch` brings a file into the workspace before a step reads it, unless the copy there is
  already the bucket's current one (compared by the object's metadata: generation, etag);
- `publish` uploads what a step wrote, and every step publishes **before** the ledger records
  the step as done, so a worker on another machine that reads the ledger finds the files
  (a crash in between leaves an unused upload, never a ledger row without its file).

Files move whole and streamed (fsspec's `get_file`/`put_file`, resumable uploads above a few
MiB); nothing is read into memory whole. Local data directories use none of this: every
method is a no-op for them, so they stay as fast as before.

Credentials are the store's own standard ones (Application Default Credentials for gs://,
the AWS environment for s3://); `STORAGE_EMULATOR_HOST` points gs:// at an emulator and
`AWS_ENDPOINT_URL_S3` points s3:// at any S3-compatible endpoint (MinIO, moto, Ceph).
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from interviews.errors import ConfigurationError

_WORKSPACES = "interviews-workspaces"
# bytes per part of a resumable / multipart upload (a multiple of GCS's 256 KiB)
_UPLOAD_PART = 8 << 20
_PART_UPLOADS = ("gs", "gcs", "s3", "s3a")


def is_remote(data_dir: str | os.PathLike[str]) -> bool:
    """Whether `data_dir` names an object store (`scheme://…`) rather than a local folder."""
    text = str(data_dir)
    return "://" in text and not text.startswith("file://")


def local_path(data_dir: str | os.PathLike[str]) -> Path:
    """A local data directory as a Path (`file://` URLs included)."""
    text = str(data_dir)
    return Path(text[len("file://") :]) if text.startswith("file://") else Path(text)


class RemoteMirror:
    """One remote data directory, mirrored into this process's workspace.

    Use `mirror_for(url)`: one mirror per URL per process, so every step of a process shares
    the workspace and what it knows of the bucket.
    """

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        protocol = self.url.split("://", 1)[0]
        self._protocol = protocol
        self._fs: Any = None
        self.root = _new_workspace(self.url)
        # gcsfs and s3fs upload in parts of 50 MiB by default, each held in memory; with one
        # upload per chunk running side by side that was most of a large run's memory
        self._put_options = {"chunksize": _UPLOAD_PART} if protocol in _PART_UPLOADS else {}
        # object metadata of each workspace file when it was fetched or published: a file
        # whose object still has it is current and is not downloaded again
        self._versions: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def fs(self) -> Any:
        """The store's fsspec filesystem, made on first use: making it may look for
        credentials (seconds), which a command that stops on bad settings never needs."""
        if self._fs is None:
            import fsspec

            try:
                self._fs, self._base = fsspec.core.url_to_fs(
                    self.url, **_storage_options(self._protocol)
                )
            except (ImportError, ValueError) as exc:
                raise ConfigurationError(
                    f"cannot use the data directory {self.url}: {exc} (gcsfs and s3fs are "
                    "installed; another store needs its fsspec package: `uv add <package>`)"
                ) from None
        return self._fs

    @property
    def base(self) -> str:
        """The data directory's path in the store (bucket/prefix)."""
        self.fs  # noqa: B018 (made with the filesystem)
        return self._base

    def remote(self, path: Path) -> str:
        """The object path of a workspace file."""
        return f"{self.base}/{self.relative(path)}"

    def relative(self, path: Path) -> str:
        """A workspace path relative to the data directory's root (forward slashes)."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            raise ValueError(f"{path} is not in the workspace of {self.url}") from None

    def shown(self, path: Path) -> str:
        """How to name a workspace file to a person: its URL in the bucket."""
        return f"{self.url}/{self.relative(path)}"

    def fetch(self, path: Path) -> bool:
        """Make the workspace copy of `path` the bucket's current one; tell whether the file
        exists (in the bucket, or only here: written by this process and not yet published).
        """
        try:
            info = self.fs.info(self.remote(path))
        except FileNotFoundError:
            return path.exists()
        self._download(path, info)
        return True

    def fetch_tree(self, folder: Path) -> None:
        """Fetch every file under `folder` (one listing, then only what changed)."""
        prefix = self.remote(folder)
        try:
            found = self.fs.find(prefix, detail=True)
        except FileNotFoundError:
            return
        for name, info in found.items():
            if info.get("type") == "directory":
                continue
            relative = name[len(self.base) + 1 :] if name.startswith(self.base) else None
            if not relative:
                continue
            self._download(self.root / relative, info)

    def publish(self, paths: Iterable[Path]) -> None:
        """Upload workspace files to the bucket (each streamed; an object appears whole)."""
        for path in paths:
            remote = self.remote(path)
            self.fs.put_file(str(path), remote, **self._put_options)
            version = _version(self.fs.info(remote))
            with self._lock:
                self._versions[self.relative(path)] = version

    def publish_many(self, paths: list[Path]) -> None:
        """Upload many small files at once (per-interview records: concurrent puts)."""
        if paths:
            self.fs.put([str(path) for path in paths], [self.remote(path) for path in paths])

    def claim(self, path: Path) -> bool:
        """Create `path` in the bucket, empty, unless an object has that name (True: it was
        free). Exclusive on stores that honour it (GCS's ifGenerationMatch=0, S3's
        If-None-Match); elsewhere the look before it leaves only a moment for two machines to
        pick the same name."""
        remote = self.remote(path)
        if self.fs.exists(remote):
            return False
        try:
            self.fs.pipe_file(remote, b"", mode="create")
        except FileExistsError:
            return False
        return True

    def remove(self, path: Path) -> None:
        """Delete a file here and in the bucket."""
        path.unlink(missing_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self.remote(path))
        with self._lock:
            self._versions.pop(self.relative(path), None)

    def remove_tree(self, folder: Path) -> None:
        """Delete a folder here and in the bucket."""
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(self.remote(folder), recursive=True)

    def copy(self, source: Path, dest: Path) -> None:
        """Copy a file within the bucket (and here, when the workspace has it)."""
        self.fs.copy(self.remote(source), self.remote(dest))
        if source.exists():
            shutil.copyfile(source, dest)

    def _download(self, path: Path, info: dict[str, Any]) -> None:
        relative = self.relative(path)
        version = _version(info)
        with self._lock:
            if self._versions.get(relative) == version and path.exists():
                return
        path.parent.mkdir(parents=True, exist_ok=True)
        # a name of this thread's own, renamed into place: a reader never sees half a file
        part = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.fetch")
        try:
            self.fs.get_file(self.remote(path), str(part))
            os.replace(part, path)
        finally:
            part.unlink(missing_ok=True)
        with self._lock:
            self._versions[relative] = version


def _version(info: dict[str, Any]) -> str:
    """What identifies one version of an object: its generation or etag where the store
    gives one, else its size and modification time."""
    for key in ("generation", "ETag", "etag", "VersionId", "md5Hash"):
        if info.get(key):
            return f"{key}={info[key]}:{info.get('size')}"
    return f"size={info.get('size')}:mtime={info.get('mtime') or info.get('LastModified')}"


def _storage_options(protocol: str) -> dict[str, Any]:
    """fsspec options for the store.

    Listings are never cached: another machine writes to the same bucket, and a cached
    listing would hide its files. A GCS emulator needs no credentials and serves only the JSON
    API (gcsfs would ask it for the bucket's layout over gRPC, and wait 60 s for each answer).
    """
    options: dict[str, Any] = {"use_listings_cache": False}
    if protocol in ("gs", "gcs") and os.environ.get("STORAGE_EMULATOR_HOST"):
        os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
        options["token"] = "anon"
    return options


_mirrors: dict[str, RemoteMirror] = {}
_mirrors_lock = threading.Lock()


def mirror_for(url: str) -> RemoteMirror:
    """This process's mirror of the remote data directory `url`."""
    key = url.rstrip("/")
    with _mirrors_lock:
        mirror = _mirrors.get(key)
        if mirror is None:
            mirror = _mirrors[key] = RemoteMirror(key)
        return mirror


def _workspaces() -> Path:
    """The folder of every process's workspace (INTERVIEWS_WORKSPACE_DIR, else the system's
    temporary folder), private to this user."""
    parent = Path(os.environ.get("INTERVIEWS_WORKSPACE_DIR") or tempfile.gettempdir()) / _WORKSPACES
    parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return parent


def _new_workspace(url: str) -> Path:
    """A private folder for this process's copy of `url`'s files, removed when the process
    exits; the folders of processes that died without removing theirs are removed here."""
    from interviews.jsonl import pid_alive

    parent = _workspaces()
    for old in parent.iterdir():
        pid = old.name.split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    digest = hashlib.sha256(url.encode()).hexdigest()[:12]
    root = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-{digest}-", dir=parent))
    atexit.register(shutil.rmtree, root, True)
    return root


_inputs: dict[str, Path] = {}
_inputs_lock = threading.Lock()


def local_input(name: str | os.PathLike[str]) -> Path:
    """An input file (personas, protocol, template) as a local path: itself, or, for a URL
    (`gs://bucket/personas/nightly.jsonl`), a private copy streamed into this process's
    temporary folder, once per process. Nightly runs on ephemeral workers read their input
    from the bucket this way."""
    if not is_remote(name):
        return local_path(name)
    url = str(name)
    with _inputs_lock:
        copy = _inputs.get(url)
        if copy is not None and copy.exists():
            return copy
        import fsspec

        protocol = url.split("://", 1)[0]
        try:
            fs, remote = fsspec.core.url_to_fs(url, **_storage_options(protocol))
        except (ImportError, ValueError) as exc:
            raise ConfigurationError(f"cannot read {url}: {exc}") from None
        folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-input-", dir=_workspaces()))
        atexit.register(shutil.rmtree, folder, True)
        copy = folder / (url.rstrip("/").rsplit("/", 1)[-1] or "input")
        try:
            fs.get_file(remote, str(copy))
        except FileNotFoundError:
            from interviews.errors import InputError

            raise InputError("not found in the bucket; check the URL", path=url) from None
        _inputs[url] = copy
        return copy
