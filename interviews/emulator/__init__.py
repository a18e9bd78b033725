"""Local emulator of the providers' batch APIs, for the demo and the test suite.

One Starlette app serves each provider's real wire protocol under its own path prefix
(`/anthropic`, `/openai`, `/vertex`, `/gemini`) plus test-only control routes under
`/_emulator/`; Vertex jobs read and write Cloud Storage on an in-process gcp-storage-emulator.
State (batches, clock, faults, stats) lives in one thread-safe `EmulatorState`. It is never a
code path of the pipeline itself.
"""

from interviews.emulator.app import create_app
from interviews.emulator.control import EmulatorControl
from interviews.emulator.gcs import DEFAULT_BUCKET, GcsServer
from interviews.emulator.server import EmulatorServer, serve
from interviews.emulator.state import EmulatorConfig, EmulatorState

__all__ = [
    "DEFAULT_BUCKET",
    "EmulatorConfig",
    "EmulatorControl",
    "EmulatorServer",
    "EmulatorState",
    "GcsServer",
    "create_app",
    "serve",
]
