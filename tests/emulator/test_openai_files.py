"""The OpenAI Files emulator, driven by the real SDK in strict mode."""

import httpx
import openai
import pytest

from interviews.emulator import EmulatorControl, EmulatorServer
from tests.emulator.builders import chat_lines, jsonl

THIRTY_DAYS = 30 * 24 * 3600


def test_upload_retrieve_content_and_stats(
    openai_client: openai.OpenAI, control: EmulatorControl
) -> None:
    content = jsonl(chat_lines(3))
    uploaded = openai_client.files.create(file=("in.jsonl", content), purpose="batch")
    assert uploaded.id.startswith("file-") and uploaded.object == "file"
    assert uploaded.bytes == len(content) and uploaded.filename == "in.jsonl"
    assert uploaded.purpose == "batch" and uploaded.status == "processed"
    assert uploaded.expires_at == uploaded.created_at + THIRTY_DAYS
    assert uploaded.status_details is None

    assert openai_client.files.retrieve(uploaded.id) == uploaded
    assert openai_client.files.content(uploaded.id).content == content
    stats = control.stats()["openai"]
    assert stats["files_uploaded"] == 1
    assert stats["calls"]["POST /v1/files"] == 1


def test_expires_after_and_expiry(openai_client: openai.OpenAI, control: EmulatorControl) -> None:
    short = openai_client.files.create(
        file=("notes.txt", b"hello"),
        purpose="user_data",
        expires_after={"anchor": "created_at", "seconds": 3600},
    )
    kept = openai_client.files.create(file=("notes.txt", b"hello"), purpose="user_data")
    assert short.expires_at == short.created_at + 3600 and kept.expires_at is None

    control.advance(3601)
    with pytest.raises(openai.NotFoundError):
        openai_client.files.retrieve(short.id)
    assert [f.id for f in openai_client.files.list()] == [kept.id]


def test_list_filters_orders_and_pages(openai_client: openai.OpenAI) -> None:
    batch_ids = [
        openai_client.files.create(file=(f"in{i}.jsonl", b"{}\n"), purpose="batch").id
        for i in range(3)
    ]
    other = openai_client.files.create(file=("a.txt", b"x"), purpose="user_data").id

    assert [f.id for f in openai_client.files.list()] == [other, *batch_ids[::-1]]
    assert [f.id for f in openai_client.files.list(purpose="batch", order="asc")] == batch_ids
    page = openai_client.files.list(purpose="batch", limit=2)
    assert [f.id for f in page.data] == batch_ids[::-1][:2] and page.has_more is True
    after = openai_client.files.list(purpose="batch", limit=2, after=batch_ids[1])
    assert [f.id for f in after.data] == [batch_ids[0]] and after.has_more is False
    assert [f.id for f in openai_client.files.list(purpose="batch", limit=1)] == batch_ids[::-1]


def test_delete(openai_client: openai.OpenAI) -> None:
    file_id = openai_client.files.create(file=("in.jsonl", b"{}\n"), purpose="batch").id
    deleted = openai_client.files.delete(file_id)
    assert deleted.id == file_id and deleted.deleted is True and deleted.object == "file"
    with pytest.raises(openai.NotFoundError) as caught:
        openai_client.files.retrieve(file_id)
    assert caught.value.param == "id"
    with pytest.raises(openai.NotFoundError):
        openai_client.files.delete(file_id)
    with pytest.raises(openai.NotFoundError):
        openai_client.files.content(file_id)


def test_batch_purpose_needs_jsonl(openai_client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match=r"Must be \.jsonl"):
        openai_client.files.create(file=("in.csv", b"a,b\n"), purpose="batch")


@pytest.mark.parametrize(
    ("fields", "files"),
    [
        ({"purpose": "batch"}, None),
        ({}, {"file": ("in.jsonl", b"{}\n")}),
        ({"purpose": "nonsense"}, {"file": ("in.jsonl", b"{}\n")}),
        (
            {"purpose": "batch", "expires_after[anchor]": "created_at"},
            {"file": ("in.jsonl", b"{}\n")},
        ),
    ],
)
def test_upload_rejects_bad_forms(
    emulator: EmulatorServer, control: EmulatorControl, fields: dict, files: dict | None
) -> None:
    response = httpx.post(
        f"{emulator.openai_base_url}/files",
        data=fields,
        files=files or {"unused": ("x", b"")},
        headers={"authorization": "Bearer test"},
        trust_env=False,
    )
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    assert control.stats()["openai"]["files_uploaded"] == 0


def test_auth_is_required(emulator: EmulatorServer) -> None:
    url = f"{emulator.openai_base_url}/files"
    with httpx.Client(trust_env=False) as http:
        missing = http.get(url)
        assert missing.status_code == 401
        assert missing.json()["error"]["type"] == "invalid_request_error"
        assert http.get(url, headers={"x-api-key": "k"}).status_code == 401
        assert http.get(url, headers={"authorization": "Bearer k"}).status_code == 200
    # The SDK insists on a key, so a wrong scheme stands in for a missing one.
    bad = openai.OpenAI(
        base_url=emulator.openai_base_url,
        api_key="test",
        max_retries=0,
        default_headers={"Authorization": "Basic dGVzdA=="},
    )
    with pytest.raises(openai.AuthenticationError):
        bad.files.list()


def test_reset_clears_openai_state(openai_client: openai.OpenAI, control: EmulatorControl) -> None:
    file_id = openai_client.files.create(file=("in.jsonl", jsonl(chat_lines(1))), purpose="batch")
    batch = openai_client.batches.create(
        input_file_id=file_id.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    control.reset()
    with pytest.raises(openai.NotFoundError):
        openai_client.batches.retrieve(batch.id)
    assert list(openai_client.files.list()) == []
    assert control.stats()["openai"]["files_uploaded"] == 0
