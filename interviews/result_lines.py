"""Provider results are untrusted input: the checks each results line passes, and the report of
the lines that failed them.

A bad line is reported (file:line, what is wrong, what to do) and skipped; the good lines still
convert, and the raw results file is always kept as downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from interviews.requests import CUSTOM_ID_PATTERN

# Bad-line messages kept for the report; the count goes on past them (a file of a million bad
# lines must not hold a million messages).
KEPT_MESSAGES = 20

# A custom id as shown in a message: long ids are cut, control characters escaped by repr.
_SHOWN_CHARS = 40


def valid_custom_id(value: object) -> bool:
    """True if `value` is a custom id every provider accepts and that is safe as a file name."""
    # fullmatch: `$` alone would let a trailing newline through
    return isinstance(value, str) and CUSTOM_ID_PATTERN.fullmatch(value) is not None


def shown(value: object) -> str:
    """`value` safe to print: its repr (control characters escaped), cut to 40 characters."""
    text = repr(value)
    if len(text) > _SHOWN_CHARS:
        length = f" ({len(value)} chars)" if isinstance(value, str) else ""
        text = f"{text[:_SHOWN_CHARS]}…{length}"
    return text


def bad_id_problem(value: object) -> str:
    """The report of a line whose custom id is not one of ours."""
    return (
        f"custom_id {shown(value)} is not a valid id ({CUSTOM_ID_PATTERN.pattern}); line "
        "skipped, no record written. Check that this is the results file of requests that "
        "interviews prepared"
    )


@dataclass
class ResultProblems:
    """What was wrong with the lines of one or more results files.

    Attributes:
        skipped: lines skipped (unreadable, over-long, foreign shape, bad custom id).
        usage_unknown: answered lines kept whose token counts were unusable (cost unknown).
        messages: the first `KEPT_MESSAGES` reports, each `file:line: problem`.
    """

    skipped: int = 0
    usage_unknown: int = 0
    messages: list[str] = field(default_factory=list)

    def skip(self, path: object, line: int, problem: str) -> None:
        """Report a skipped line."""
        self.skipped += 1
        self._note(f"{path}:{line}: {problem}")

    def unknown_usage(self, path: object, line: int, custom_id: str) -> None:
        """Report an answer kept whose usage could not be read."""
        self.usage_unknown += 1
        self._note(
            f"{path}:{line}: custom_id {shown(custom_id)} has token counts that are not whole "
            "numbers from 0 to 100,000,000; answer kept, its usage and cost recorded as "
            "unknown (null), so the run's cost is incomplete"
        )

    def add(self, other: ResultProblems) -> None:
        """Fold another report into this one."""
        self.skipped += other.skipped
        self.usage_unknown += other.usage_unknown
        for message in other.messages:
            self._note(message)

    def _note(self, message: str) -> None:
        if len(self.messages) < KEPT_MESSAGES:
            self.messages.append(message)

    def __bool__(self) -> bool:
        return bool(self.skipped or self.usage_unknown)

    def lines(self) -> list[str]:
        """The report, one line each, with a tally of those not shown."""
        shown_lines = list(self.messages)
        more = self.skipped + self.usage_unknown - len(self.messages)
        if more > 0:
            shown_lines.append(f"… and {more:,} more problem line(s)")
        return shown_lines
