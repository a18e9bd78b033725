"""The project's one clock: what time and day it is, frozen by `INTERVIEWS_NOW`.

Two kinds of time, on purpose:

- `now()` / `today()`: the calendar. Model lifecycles (deprecated, retiring, retired), the
  batch-window check, and the date-times written into names and records (run ids, request
  file names, real-time record timestamps) read it. `INTERVIEWS_NOW` (a setting, ISO-8601)
  freezes it, so tests -- including CLIs they start in subprocesses and pseudo-terminals, which
  inherit the variable -- never depend on today's date.
- `wall_now()`: physical time, never frozen. Providers (and the local emulator, like them) stamp
  batches with their own real clock, so every instant we compare with theirs must be real too:
  the ledger's event times (a batch intent is matched against a batch's `created_at` when a lost
  create is adopted; runs are ordered by them) and the wait deadline's fallback start. A frozen
  instant there would make adoption match the wrong batches, and a wait expire at once.
  Elapsed-time loops keep their own injectable clocks (`time.time`, `time.monotonic`).
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from functools import lru_cache

ENV = "INTERVIEWS_NOW"


def now() -> datetime:
    """The current instant as an aware UTC datetime: `INTERVIEWS_NOW` if set, else the real time.

    Raises:
        ConfigurationError: `INTERVIEWS_NOW` is not an ISO-8601 date-time.
    """
    frozen = _frozen(os.environ.get(ENV) or None)
    return frozen if frozen is not None else datetime.now(UTC)


def today() -> date:
    """The current UTC day by `now()`."""
    return now().date()


def wall_now() -> datetime:
    """The machine's real time (aware UTC), which `INTERVIEWS_NOW` never moves: for instants
    compared with a provider's own clock (see the module docstring)."""
    return datetime.now(UTC)


@lru_cache(maxsize=8)
def _frozen(raw: str | None) -> datetime | None:
    # keyed on the variable's text: a record written per answer does not re-read every setting,
    # and a test that changes the variable gets the new instant
    if raw is None:
        return None
    from interviews.settings import get_settings

    return get_settings().now
