"""Estimating a run from its data: the prompts it would send, rendered, not a fixed guess.

Input tokens come from the rendered prompts (system prompt and first question of each
interview, and with a protocol every later question and the conversation each one resends),
counted as one token per four characters of text: a documented approximation of English prose
in the providers' tokenizers (no tokenizer runs here, so nothing is downloaded and `interviews
estimate` answers in well under a second). Output tokens are the guide's 2,000 per answer, or
the run's `max_tokens` if lower: the answers do not exist yet.

With `--count-tokens`, the provider's own count-tokens endpoint counts the first
`SAMPLE_SIZE` interviews' first requests (exactly as they would be sent; free, nothing is
generated), and the whole run's first prompts are scaled from that sample by their characters
(exact when the run is no larger than the sample). Later questions of a protocol and the
answers they resend stay approximated.

Only `count_with_provider` touches the network; nothing here touches the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from interviews.catalog import ModelInfo
from interviews.costs import DEFAULT_OUTPUT_TOKENS, Estimate, estimate, estimate_tokens

if TYPE_CHECKING:
    from interviews.providers.base import BatchAdapter
    from interviews.requests import CanonicalRequest

APPROXIMATION = "rendered prompts, 4 characters per token"
SAMPLE_SIZE = 20  # first requests counted by the provider with --count-tokens


@dataclass(frozen=True)
class PromptSizes:
    """The characters a run's prompts hold.

    Attributes:
        count: interviews.
        input_chars: the system prompts and first questions of all interviews.
        turns: questions per interview (1 without a protocol).
        later_chars: the questions after the first, all interviews together.
        sample: the first `SAMPLE_SIZE` requests, for a provider to count.
        input_tokens: the first prompts' tokens as the provider counted them (None: the
            approximation, 4 characters per token).
    """

    count: int
    input_chars: int
    turns: int = 1
    later_chars: int = 0
    sample: tuple[CanonicalRequest, ...] = ()
    input_tokens: int | None = None


def estimate_sizes(
    model: ModelInfo,
    sizes: PromptSizes,
    *,
    max_tokens: int,
    output_tokens: int | None = None,
    at: datetime | None = None,
) -> Estimate:
    """The cost of interviews whose prompts have `sizes`, before any prompt caching.

    In an interview protocol every question resends the conversation so far: question k
    carries the prompts, k - 1 answers and the questions before it.

    Args:
        model: the catalogued model.
        sizes: the rendered prompts' sizes.
        max_tokens: the run's longest answer (caps the assumed answer length).
        output_tokens: tokens per answer, if known (default: 2,000, or `max_tokens` if lower).
        at: when the requests would be made (default: now).
    """
    per_answer = (
        output_tokens if output_tokens is not None else min(max_tokens, DEFAULT_OUTPUT_TOKENS)
    )
    count, turns = sizes.count, sizes.turns
    resent_answers = per_answer * count * turns * (turns - 1) // 2
    first = estimate_tokens(sizes.input_chars) if sizes.input_tokens is None else sizes.input_tokens
    input_tokens = (
        first * turns
        + resent_answers
        + estimate_tokens(sizes.later_chars) * (turns - 1)  # asked, then resent
    )
    return estimate(model, count, input_tokens, per_answer * count * turns, at)


def measure_personas(
    personas: Path,
    *,
    count: int | None = None,
    start_index: int = 0,
    system_template: Path | None = None,
    question_template: Path | None = None,
    protocol: Path | None = None,
) -> PromptSizes:
    """Render the prompts of the selected personas (validated as a run validates them) and
    measure them; nothing is written.

    Raises:
        InputError: bad personas file, template or protocol (names the file and line).
    """
    from interviews.personas import select_personas
    from interviews.prompts import Prompts
    from interviews.protocol import load_protocol
    from interviews.requests import build_requests

    loaded = load_protocol(protocol) if protocol else None
    prompts = Prompts.load(system_template, question_template, loaded)
    records = select_personas(personas, count=count, start_index=start_index)
    interviews = chars = later = 0
    sample: list[CanonicalRequest] = []
    for request in build_requests(records, prompts, source=str(personas)):
        interviews += 1
        chars += len(request.system_message) + len(request.first_question)
        later += sum(map(len, request.later_questions))
        if len(sample) < SAMPLE_SIZE:
            sample.append(request)
    return PromptSizes(interviews, chars, len(loaded.turns) if loaded else 1, later, tuple(sample))


def count_with_provider(
    sizes: PromptSizes,
    adapter: BatchAdapter,
    model: str,
    *,
    max_tokens: int,
    endpoint: str | None = None,
) -> PromptSizes:
    """`sizes` with the first prompts' tokens counted by the provider: its count-tokens
    endpoint counts each sampled request's line, and the run's total is scaled from the
    sample by characters (the sum itself when every request was sampled).

    Raises:
        ProviderError: the provider refused the key, the model or the count.
    """
    counted = sampled_chars = 0
    for request in sizes.sample:
        line = adapter.build_line(request, model=model, max_tokens=max_tokens, endpoint=endpoint)
        counted += adapter.count_input_tokens(line, model)
        sampled_chars += len(request.system_message) + len(request.first_question)
    if not sampled_chars:
        return sizes
    total = counted * sizes.input_chars // sampled_chars  # == counted when all were sampled
    return replace(sizes, input_tokens=total)
