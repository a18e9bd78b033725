"""`python -m interviews` runs the CLI."""

from interviews.cli import main

main()
