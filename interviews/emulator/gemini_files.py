"""Gemini API Files: uploaded and generated files, and resumable upload sessions.

Pure storage logic; `gemini_routes` puts it on the wire. `File` shapes follow the installed
`google.genai.types.File` (camelCase, int64 `sizeBytes` as a string).
"""

import base64
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from interviews.emulator.clock import isoformat
from interviews.emulator.ids import random_token

# Files live 48 h (ai.google.dev Files API); generated batch output is assumed to do the same.
FILE_SECONDS = 48 * 3600
MAX_FILE_BYTES = 2 * 1024**3
LOWER_ALNUM = "0123456789abcdefghijklmnopqrstuvwxyz"
FILE_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
UPLOADED, GENERATED = "UPLOADED", "GENERATED"


@dataclass
class GeminiFile:
    """One file: its bytes and what `files.get` reports."""

    id: str
    display_name: str | None
    mime_type: str
    content: bytes
    created_at: float
    source: str

    @property
    def name(self) -> str:
        """`files/<id>`."""
        return f"files/{self.id}"

    def expired(self, now: float) -> bool:
        """Whether the file is past its 48 h lifetime (then it is gone)."""
        return now >= self.created_at + FILE_SECONDS

    def to_json(self, versioned_url: str) -> dict[str, Any]:
        """The `File` resource; `versioned_url` is e.g. `http://127.0.0.1:P/gemini/v1beta`."""
        digest = hashlib.sha256(self.content).hexdigest()
        data: dict[str, Any] = {
            "name": self.name,
            "mimeType": self.mime_type,
            "sizeBytes": str(len(self.content)),
            "createTime": isoformat(self.created_at),
            "updateTime": isoformat(self.created_at),
            "expirationTime": isoformat(self.created_at + FILE_SECONDS),
            "sha256Hash": base64.b64encode(digest.encode()).decode(),
            "uri": f"{versioned_url}/{self.name}",
            "state": "ACTIVE",
            "source": self.source,
        }
        if self.display_name:
            data["displayName"] = self.display_name
        if self.source == GENERATED:
            data["downloadUri"] = f"{versioned_url}/{self.name}:download?alt=media"
        return data


@dataclass
class UploadSession:
    """A resumable upload between its `start` and its `finalize`."""

    id: str
    file_id: str
    display_name: str | None
    mime_type: str
    declared_size: int | None
    data: bytearray = field(default_factory=bytearray)


def new_file_id() -> str:
    """A fresh id shaped like the service's: lowercase letters and digits."""
    return random_token(12, LOWER_ALNUM)


def live_file(store: dict[str, GeminiFile], file_id: str, now: float) -> GeminiFile | None:
    """The file if it exists and has not expired; expired files are dropped on sight."""
    stored = store.get(file_id)
    if stored is not None and stored.expired(now):
        del store[file_id]
        return None
    return stored


def add_file(
    store: dict[str, GeminiFile],
    file_id: str,
    content: bytes,
    now: float,
    *,
    mime_type: str,
    source: str,
    display_name: str | None = None,
) -> GeminiFile:
    """Store a file under `file_id` (caller holds the state lock) and return it."""
    stored = GeminiFile(file_id, display_name, mime_type, content, now, source)
    store[file_id] = stored
    return stored
