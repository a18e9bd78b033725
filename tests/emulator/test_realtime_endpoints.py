"""The real-time endpoints (`/v1/messages`, `/v1/chat/completions`, `/v1/responses`,
`:generateContent`), driven by the real SDKs: strict parsing, multi-turn answers, faults
retried by the SDKs, and the `realtime_requests` counter."""

from collections.abc import Iterator
from typing import Any

import anthropic
import google.oauth2.credentials
import openai
import pytest
from google.genai import Client as GenaiClient
from google.genai import errors, types

from interviews.emulator import EmulatorControl, EmulatorServer
from interviews.emulator.answers import compose_answer, conversation_seed
from tests.emulator.builders import NAMES, QUESTION, system_prompt
from tests.emulator.google_support import LOCATION, PROJECT

CLAUDE, GPT, GEMINI = "claude-sonnet-5-5", "gpt-5-mini", "gemini-2.5-flash"
SLEEP_Q = "How well do you sleep at night?"
MEDS_Q = "Which medications do you take, and do you ever miss a dose?"
EARLIER = "I wake up once or twice, but I fall back asleep fairly easily."
# A whole conversation as the real-time mode sends it: an earlier exchange, then the question.
TURNS = [("user", SLEEP_Q), ("assistant", EARLIER), ("user", MEDS_Q)]
# The SDKs' own retries, kept tiny: genai ignores retry-after and backs off with jitter.
FAST_GENAI_RETRIES = types.HttpRetryOptions(
    attempts=3, initial_delay=0.01, max_delay=0.02, jitter=0
)


def _expected(turns: list[tuple[str, str]]) -> str:
    """The answer every provider gives to `turns` under persona 0's system prompt."""
    system = system_prompt(0)
    question = [text for role, text in turns if role == "user"][-1]
    return compose_answer(system, question, conversation_seed(system, turns))


def _realtime_stats(control: EmulatorControl, provider: str) -> tuple[int, int, dict[str, int]]:
    """(realtime_requests, faults_fired, calls) of `provider`."""
    stats = control.stats()[provider]
    return stats["realtime_requests"], stats["faults_fired"], stats["calls"]


def _fault(provider: str, path: str, status: int, count: int) -> dict[str, Any]:
    return {
        "provider": provider,
        "method": "POST",
        "path": path,
        "status": status,
        "retry_after": 0.01,
        "count": count,
    }


# --- Anthropic -----------------------------------------------------------------------------


def _anthropic_create(client: anthropic.Anthropic, turns: list[tuple[str, str]]) -> Any:
    return client.messages.create(
        model=CLAUDE,
        max_tokens=1024,
        system=system_prompt(0),
        messages=[{"role": role, "content": text} for role, text in turns],  # type: ignore[misc]
    )


def test_anthropic_message_is_a_strict_message(
    client: anthropic.Anthropic, control: EmulatorControl
) -> None:
    message = _anthropic_create(client, [("user", QUESTION)])
    assert isinstance(message, anthropic.types.Message)
    assert message.id.startswith("msg_01") and message.type == "message"
    assert (message.role, message.model, message.stop_reason) == ("assistant", CLAUDE, "end_turn")
    assert message.stop_sequence is None
    text = message.content[0].text  # type: ignore[union-attr]
    assert text == _expected([("user", QUESTION)]) and NAMES[0] in text
    assert message.usage.output_tokens == -(-len(text) // 4)
    assert message.usage.input_tokens > 0 and message.usage.service_tier == "standard"
    assert message._request_id is not None and message._request_id.startswith("req_")
    assert _realtime_stats(control, "anthropic") == (1, 0, {"POST /v1/messages": 1})


def test_anthropic_multi_turn_answers_the_last_question(client: anthropic.Anthropic) -> None:
    first = _anthropic_create(client, TURNS[:1]).content[0].text
    last = _anthropic_create(client, TURNS).content[0].text
    assert "my sleep" in first and "my medications" not in first
    assert "my medications" in last and "my sleep" not in last
    assert last == _expected(TURNS)
    # The same conversation again: the same answer (ids differ, as on the real API).
    assert _anthropic_create(client, TURNS).content[0].text == last


def test_anthropic_invalid_request_is_a_400(
    client: anthropic.Anthropic, control: EmulatorControl
) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(
            model=CLAUDE,
            max_tokens=0,
            messages=[{"role": "user", "content": QUESTION}],
        )
    assert caught.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    assert "max_tokens" in caught.value.message
    assert control.stats()["anthropic"]["realtime_requests"] == 1


@pytest.mark.parametrize(("status", "count"), [(429, 2), (500, 1)])
def test_anthropic_faults_are_retried_by_the_sdk(
    client: anthropic.Anthropic, control: EmulatorControl, status: int, count: int
) -> None:
    control.set_faults(http=[_fault("anthropic", "/messages$", status, count)])
    message = _anthropic_create(client.with_options(max_retries=2), [("user", QUESTION)])
    assert message.content[0].text == _expected([("user", QUESTION)])  # type: ignore[union-attr]
    # Every attempt reached the route, only the last one reached the model; batches untouched.
    calls = {"POST /v1/messages": count + 1}
    assert _realtime_stats(control, "anthropic") == (1, count, calls)
    assert control.stats()["anthropic"]["batches_created"] == 0


def test_a_call_answered_too_late_counts_twice(
    client: anthropic.Anthropic, control: EmulatorControl
) -> None:
    # Handled, but held past the client's timeout: the SDK retries, and the provider has now
    # run the request twice. `realtime_requests` shows that; a fault-rejected call never does.
    fault = {"provider": "anthropic", "path": "/messages$", "delay": 0.3, "delay_after": True}
    control.set_faults(http=[fault])
    retrying = client.with_options(max_retries=1, timeout=0.1)
    assert _anthropic_create(retrying, TURNS).content[0].text == _expected(TURNS)  # type: ignore[union-attr]
    assert _realtime_stats(control, "anthropic") == (2, 1, {"POST /v1/messages": 2})


# --- OpenAI --------------------------------------------------------------------------------


def _chat(client: openai.OpenAI, turns: list[tuple[str, str]]) -> Any:
    system = [{"role": "system", "content": system_prompt(0)}]
    messages = system + [{"role": role, "content": text} for role, text in turns]
    return client.chat.completions.create(
        model=GPT,
        messages=messages,  # type: ignore[arg-type]
        max_completion_tokens=2048,
    )


def _respond(client: openai.OpenAI, turns: list[tuple[str, str]]) -> Any:
    return client.responses.create(
        model=GPT,
        instructions=system_prompt(0),
        input=[{"role": role, "content": text} for role, text in turns],  # type: ignore[misc]
        max_output_tokens=2048,
    )


def test_openai_chat_completion_is_strict(
    openai_client: openai.OpenAI, control: EmulatorControl
) -> None:
    completion = _chat(openai_client, [("user", QUESTION)])
    assert completion.object == "chat.completion" and completion.id.startswith("chatcmpl-")
    assert completion.model == GPT and completion.choices[0].finish_reason == "stop"
    text = completion.choices[0].message.content
    assert text == _expected([("user", QUESTION)])
    assert completion.usage is not None and completion.usage.completion_tokens == -(-len(text) // 4)
    assert completion._request_id is not None
    assert _realtime_stats(control, "openai") == (1, 0, {"POST /v1/chat/completions": 1})


def test_openai_response_is_strict(openai_client: openai.OpenAI, control: EmulatorControl) -> None:
    response = _respond(openai_client, [("user", QUESTION)])
    assert response.object == "response" and response.status == "completed"
    assert response.id.startswith("resp_") and response.model == GPT
    assert response.output_text == _expected([("user", QUESTION)])
    assert response.usage is not None and response.usage.output_tokens > 0
    assert _realtime_stats(control, "openai") == (1, 0, {"POST /v1/responses": 1})


def test_openai_multi_turn_answers_the_last_question(openai_client: openai.OpenAI) -> None:
    chat = _chat(openai_client, TURNS).choices[0].message.content
    assert chat == _expected(TURNS) and "my medications" in chat
    assert _respond(openai_client, TURNS).output_text == chat
    # An assistant turn replayed as Responses output items reads the same.
    replayed = openai_client.responses.create(
        model=GPT,
        instructions=system_prompt(0),
        input=[
            {"role": "user", "content": SLEEP_Q},
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": EARLIER, "annotations": []}],
            },
            {"role": "user", "content": [{"type": "input_text", "text": MEDS_Q}]},
        ],  # type: ignore[list-item]
    )
    assert replayed.output_text == chat


def test_openai_invalid_requests_are_400s(
    openai_client: openai.OpenAI, control: EmulatorControl
) -> None:
    with pytest.raises(openai.BadRequestError) as sampling:
        openai_client.chat.completions.create(
            model=GPT, messages=[{"role": "user", "content": QUESTION}], temperature=0.2
        )
    assert (sampling.value.code, sampling.value.param) == ("unsupported_value", "temperature")
    with pytest.raises(openai.BadRequestError) as chained:
        openai_client.responses.create(model=GPT, input=QUESTION, previous_response_id="resp_x")
    assert chained.value.code == "previous_response_not_found"
    assert control.stats()["openai"]["realtime_requests"] == 2


@pytest.mark.parametrize(("status", "count"), [(429, 2), (500, 1)])
@pytest.mark.parametrize("endpoint", ["/v1/chat/completions", "/v1/responses"])
def test_openai_faults_are_retried_by_the_sdk(
    openai_client: openai.OpenAI, control: EmulatorControl, endpoint: str, status: int, count: int
) -> None:
    control.set_faults(http=[_fault("openai", f"^{endpoint}$", status, count)])
    retrying = openai_client.with_options(max_retries=2)
    if endpoint.endswith("responses"):
        text = _respond(retrying, [("user", QUESTION)]).output_text
    else:
        text = _chat(retrying, [("user", QUESTION)]).choices[0].message.content
    assert text == _expected([("user", QUESTION)])
    assert _realtime_stats(control, "openai") == (1, count, {f"POST {endpoint}": count + 1})


# --- Gemini API and Vertex (google-genai) --------------------------------------------------


@pytest.fixture(scope="module")
def credentials() -> google.oauth2.credentials.Credentials:
    return google.oauth2.credentials.Credentials(token="test")


def _genai(
    emulator: EmulatorServer,
    credentials: google.oauth2.credentials.Credentials,
    vertex: bool,
    api_version: str | None = None,
) -> GenaiClient:
    """google-genai against the emulator, retrying quickly (as the real-time mode would)."""
    options = types.HttpOptions(
        api_version=api_version, retry_options=FAST_GENAI_RETRIES, timeout=10_000
    )
    if vertex:
        options.base_url = emulator.vertex_base_url
        return GenaiClient(
            vertexai=True,
            project=PROJECT,
            location=LOCATION,
            credentials=credentials,
            http_options=options,
        )
    options.base_url = emulator.gemini_base_url
    return GenaiClient(api_key="test", http_options=options)


# (provider, api version): both versions the SDK majors default to, on both products.
GOOGLE = [("gemini", "v1beta"), ("gemini", "v1"), ("vertex", "v1beta1"), ("vertex", "v1")]


@pytest.fixture(params=GOOGLE, ids=[f"{p}-{v}" for p, v in GOOGLE])
def google_client(
    request: pytest.FixtureRequest,
    emulator: EmulatorServer,
    credentials: google.oauth2.credentials.Credentials,
) -> Iterator[tuple[str, str, GenaiClient]]:
    provider, version = request.param
    client = _genai(emulator, credentials, provider == "vertex", version)
    yield provider, version, client
    client.close()


def _generate(client: GenaiClient, turns: list[tuple[str, str]]) -> types.GenerateContentResponse:
    contents = [
        types.Content(role="user" if role == "user" else "model", parts=[types.Part(text=text)])
        for role, text in turns
    ]
    return client.models.generate_content(
        model=GEMINI,
        contents=contents,  # type: ignore[arg-type]
        config=types.GenerateContentConfig(system_instruction=system_prompt(0)),
    )


def _route(provider: str, version: str) -> str:
    if provider == "gemini":
        return f"POST /{version}/models/{{model}}:generateContent"
    return (
        f"POST /{version}/projects/{{project}}/locations/{{location}}"
        "/publishers/google/models/{model}:generateContent"
    )


def test_google_generate_content_parses(
    google_client: tuple[str, str, GenaiClient], control: EmulatorControl
) -> None:
    provider, version, client = google_client
    response = _generate(client, [("user", QUESTION)])
    assert response.text == _expected([("user", QUESTION)])
    assert response.model_version == GEMINI and response.response_id
    candidate = (response.candidates or [])[0]
    assert candidate.finish_reason == types.FinishReason.STOP
    usage = response.usage_metadata
    assert usage is not None and usage.prompt_token_count and usage.candidates_token_count
    # Only Vertex stamps its answers.
    assert (response.create_time is not None) == (provider == "vertex")
    assert _realtime_stats(control, provider) == (1, 0, {_route(provider, version): 1})


def test_google_multi_turn_answers_the_last_question(
    google_client: tuple[str, str, GenaiClient],
) -> None:
    _, _, client = google_client
    text = _generate(client, TURNS).text
    assert text == _expected(TURNS) and "my medications" in (text or "")


def test_google_invalid_request_is_a_400(
    google_client: tuple[str, str, GenaiClient], control: EmulatorControl
) -> None:
    provider, _, client = google_client
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(
            model=GEMINI,
            contents=QUESTION,
            config=types.GenerateContentConfig(max_output_tokens=0),
        )
    assert (caught.value.code, caught.value.status) == (400, "INVALID_ARGUMENT")
    assert control.stats()[provider]["realtime_requests"] == 1


@pytest.mark.parametrize(("status", "count"), [(429, 2), (500, 1)])
def test_google_faults_are_retried_by_the_sdk(
    google_client: tuple[str, str, GenaiClient],
    control: EmulatorControl,
    status: int,
    count: int,
) -> None:
    provider, version, client = google_client
    control.set_faults(http=[_fault(provider, ":generateContent$", status, count)])
    assert _generate(client, [("user", QUESTION)]).text == _expected([("user", QUESTION)])
    assert _realtime_stats(control, provider) == (1, count, {_route(provider, version): count + 1})


# --- Across providers ----------------------------------------------------------------------


def test_one_conversation_gets_one_answer_everywhere(
    client: anthropic.Anthropic,
    openai_client: openai.OpenAI,
    emulator: EmulatorServer,
    credentials: google.oauth2.credentials.Credentials,
) -> None:
    with (
        _genai(emulator, credentials, vertex=False) as gemini,
        _genai(emulator, credentials, vertex=True) as vertex,
    ):
        answers = {
            _anthropic_create(client, TURNS).content[0].text,  # type: ignore[union-attr]
            _chat(openai_client, TURNS).choices[0].message.content,
            _respond(openai_client, TURNS).output_text,
            _generate(gemini, TURNS).text,
            _generate(vertex, TURNS).text,
        }
    assert answers == {_expected(TURNS)}
