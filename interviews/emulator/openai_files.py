"""OpenAI Files: stored uploads and batch output, as `FileObject`s with expiry and paging.

Pure storage logic; `openai_routes` puts it on the wire. Shapes follow the installed SDK's
`openai.types.FileObject` (PROVIDERS.md Part 2 §2).
"""

from dataclasses import dataclass
from typing import Any

from interviews.emulator.ids import random_token

# What `files.create` accepts (`openai.types.FilePurpose`); the API itself also writes
# `batch_output` files.
UPLOAD_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
# `expires_after.seconds` bounds, and the default lifetime of `purpose=batch` files (§2.5).
MIN_EXPIRY_SECONDS, MAX_EXPIRY_SECONDS = 3600, 30 * 24 * 3600
BATCH_FILE_SECONDS = 30 * 24 * 3600
LIST_DEFAULT = LIST_MAX = 10_000


@dataclass
class StoredFile:
    """One file: its bytes and the metadata the Files API reports."""

    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: float
    expires_at: float | None

    def expired(self, now: float) -> bool:
        """Whether the file is past its `expires_at` (then it is gone, as on the real API)."""
        return self.expires_at is not None and now >= self.expires_at

    def to_json(self) -> dict[str, Any]:
        """The `FileObject`."""
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.content),
            "created_at": int(self.created_at),
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "expires_at": int(self.expires_at) if self.expires_at is not None else None,
            "status_details": None,
        }


def new_file_id() -> str:
    """A fresh id shaped like the real ones: `file-` and 22 base62 characters."""
    return "file-" + random_token(22)


def add_file(
    store: dict[str, StoredFile],
    filename: str,
    purpose: str,
    content: bytes,
    now: float,
    expires_at: float | None,
) -> StoredFile:
    """Store a new file (caller holds the state lock) and return it."""
    stored = StoredFile(new_file_id(), filename, purpose, content, now, expires_at)
    store[stored.id] = stored
    return stored


def live_file(store: dict[str, StoredFile], file_id: str, now: float) -> StoredFile | None:
    """The file if it exists and has not expired; expired files are dropped on sight."""
    stored = store.get(file_id)
    if stored is not None and stored.expired(now):
        del store[file_id]
        return None
    return stored


def list_page(
    store: dict[str, StoredFile],
    now: float,
    *,
    purpose: str | None,
    order: str,
    after: str | None,
    limit: int,
) -> tuple[list[StoredFile], bool]:
    """One page of live files by creation time (`order` asc/desc), after the `after` id."""
    files = [f for f in store.values() if not f.expired(now)]
    if purpose:
        files = [f for f in files if f.purpose == purpose]
    # Dicts keep insertion order, which is creation order.
    if order == "desc":
        files.reverse()
    start = 0
    if after:
        ids = [f.id for f in files]
        start = ids.index(after) + 1 if after in ids else len(ids)
    return files[start : start + limit], start + limit < len(files)
