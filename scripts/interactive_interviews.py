"""The guide's interactive launcher, kept as a thin wrapper of `interviews launch`.

    python scripts/interactive_interviews.py [any `interviews launch` option]

Choose provider, model (🔄 BATCH marks batch support), personas file and count, see the cost
real-time versus batch, then prepare a batch request file or run the interviews now.
"""

from __future__ import annotations

import sys

from _interviews_cli import run_cli

if __name__ == "__main__":
    run_cli(["launch", *sys.argv[1:]])
