"""Request builders shared by the emulator tests."""

from typing import Any

import orjson

NAMES = ("Maria Lopez", "James Carter", "Aiko Tanaka", "Samuel Okafor", "Elena Petrova")


def system_prompt(index: int) -> str:
    """A system message shaped like the project's default template."""
    return (
        "You are a patient taking part in a health research interview. Stay in character.\n\n"
        "## Who you are\n"
        f"- Name: {NAMES[index % len(NAMES)]}\n"
        f"- Age: {60 + index}\n"
        "- Occupation: Retired school teacher\n\n"
        "## Health record\n"
        "- Conditions: Type 2 diabetes (diagnosed 2019, active); Hypertension (diagnosed 2015)\n"
        "- Medications: Metformin 1000 mg twice daily (diabetes); Lisinopril 10 mg daily\n"
        "- Allergies: Penicillin (rash)\n"
    )


def make_requests(count: int, **overrides: Any) -> list[dict[str, Any]]:
    """`count` interview requests with custom ids `interview_0…`."""
    return [
        {
            "custom_id": f"interview_{i}",
            "params": {
                "model": "claude-sonnet-4-5-20250929",
                "max_tokens": 1024,
                "system": system_prompt(i),
                "messages": [
                    {"role": "user", "content": "How have you been feeling since your last visit?"}
                ],
                **overrides,
            },
        }
        for i in range(count)
    ]


CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"
QUESTION = "How have you been feeling since your last visit?"


def chat_lines(count: int, model: str = "gpt-5-mini", **overrides: Any) -> list[dict[str, Any]]:
    """`count` OpenAI batch input lines for `/v1/chat/completions`, custom ids `interview_0…`."""
    return [
        {
            "custom_id": f"interview_{i}",
            "method": "POST",
            "url": CHAT,
            "body": {
                "model": model,
                "messages": [
                    {"role": "system", "content": system_prompt(i)},
                    {"role": "user", "content": QUESTION},
                ],
                "max_completion_tokens": 2048,
                **overrides,
            },
        }
        for i in range(count)
    ]


def responses_lines(
    count: int, model: str = "gpt-5-mini", **overrides: Any
) -> list[dict[str, Any]]:
    """`count` OpenAI batch input lines for `/v1/responses`, custom ids `interview_0…`."""
    return [
        {
            "custom_id": f"interview_{i}",
            "method": "POST",
            "url": RESPONSES,
            "body": {
                "model": model,
                "instructions": system_prompt(i),
                "input": QUESTION,
                "max_output_tokens": 2048,
                **overrides,
            },
        }
        for i in range(count)
    ]


def jsonl(lines: list[Any]) -> bytes:
    """JSONL bytes; a `str` item is written verbatim (for malformed lines on purpose)."""
    return b"".join(
        (line.encode() if isinstance(line, str) else orjson.dumps(line)) + b"\n" for line in lines
    )
