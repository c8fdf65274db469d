"""Code words and safe words: the worker learns a result or an alert, never a word."""

import datetime
import io
import logging

import pytest
from asgiref.sync import sync_to_async
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import Role
from conversations.models import Case
from policies.tenancy import organization_context
from tests.conversations.conftest import Survivor, Worker, on_shift
from tests.factories import client_for
from tests.roles import as_database_owner

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

CODE_WORD = "Lighthouse-Tuesday"
NEW_CODE_WORD = "Blue heron"
SAFE_WORD = "grapefruit"
CASE_SAFE_WORD = "knitting circle"


def _db(organization, function):
    def run():
        with organization_context(organization):
            return function()

    return sync_to_async(run)()


class RecordingWorker(Worker):
    """A worker whose every received frame is kept, to look for secrets in them."""

    def __init__(self, *args):
        super().__init__(*args)
        self.raw = []

    async def receive(self, timeout=3):
        frame = await super().receive(timeout)
        self.raw.append(frame)
        return frame


@pytest.fixture
def captured_logs():
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    loggers = [logging.getLogger()] + [logging.getLogger(n) for n in settings.LOGGING["loggers"]]
    saved = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield buffer
    for logger, level in saved:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def _chat(organization):
    user = await sync_to_async(on_shift)(organization)
    worker = await RecordingWorker(organization, user).open()
    survivor = await Survivor(organization).open()
    await survivor.start()
    conversation_id = await worker.next_waiting()
    await worker.send(type="accept", conversation=conversation_id)
    await survivor.receive_until("message", seq=1)
    return worker, survivor, conversation_id


async def _open_case_with_code_word(worker, survivor, conversation_id):
    await worker.send(type="case_open", conversation=conversation_id)
    reference = (await worker.receive_until("case"))["reference"]
    assert (await survivor.receive_until("code_word_prompt"))["purpose"] == "set"
    await survivor.send(type="code_word", purpose="set", word=CODE_WORD)
    await survivor.receive_until("code_word_done")
    return reference


async def _verify(worker, survivor, conversation_id, word):
    await worker.send(type="verify", conversation=conversation_id)
    prompt = await survivor.receive_until("code_word_prompt")
    assert prompt["purpose"] == "verify"
    await survivor.send(type="code_word", purpose="verify", word=word)
    await survivor.receive_until("code_word_done")
    frame = await worker.receive_until("verification")
    return frame["result"]


async def test_code_word_verified_or_not_and_never_shown(chat_organization):
    worker, survivor, conversation_id = await _chat(chat_organization)
    await _open_case_with_code_word(worker, survivor, conversation_id)
    assert await _verify(worker, survivor, conversation_id, "wrong word") == "not_verified"
    assert await _verify(worker, survivor, conversation_id, "lighthouse-TUESDAY") == "verified"
    assert CODE_WORD.lower() not in str(worker.raw).lower()

    def stored():
        case = Case.objects.get()
        return case.code_word_hash

    assert (await _db(chat_organization, stored)).startswith("argon2")


async def test_repeated_wrong_answers_lock_verification(chat_organization):
    worker, survivor, conversation_id = await _chat(chat_organization)
    await _open_case_with_code_word(worker, survivor, conversation_id)
    results = [await _verify(worker, survivor, conversation_id, f"guess {n}") for n in range(3)]
    assert results == ["not_verified", "not_verified", "locked"]
    await worker.send(type="verify", conversation=conversation_id)
    assert (await worker.receive_until("verification"))["result"] == "locked"
    # Even the right word is refused while locked.
    await survivor.send(type="code_word", purpose="verify", word=CODE_WORD)
    await survivor.receive_until("code_word_done")
    assert (await worker.receive_until("verification"))["result"] == "locked"

    def unlock():
        Case.objects.update(locked_until=timezone.now() - datetime.timedelta(seconds=1))

    await _db(chat_organization, unlock)
    assert await _verify(worker, survivor, conversation_id, CODE_WORD) == "verified"


async def test_survivor_changes_her_code_word(chat_organization):
    worker, survivor, conversation_id = await _chat(chat_organization)
    await _open_case_with_code_word(worker, survivor, conversation_id)
    await survivor.send(type="code_word", purpose="set", word=NEW_CODE_WORD, current="wrong")
    assert (await survivor.receive_until("error"))["error"] == "not_verified"
    await survivor.send(type="code_word", purpose="set", word=NEW_CODE_WORD, current=CODE_WORD)
    await survivor.receive_until("code_word_done")
    # Changing it checked the current word: the worker saw those results.
    results = [f["result"] for f in await worker.drain() if f["type"] == "verification"]
    assert results == ["not_verified", "verified"]
    assert await _verify(worker, survivor, conversation_id, NEW_CODE_WORD) == "verified"
    assert await _verify(worker, survivor, conversation_id, CODE_WORD) == "not_verified"


async def test_returning_survivor_is_linked_by_reference(chat_organization):
    worker, survivor, conversation_id = await _chat(chat_organization)
    reference = await _open_case_with_code_word(worker, survivor, conversation_id)
    await worker.send(type="end", conversation=conversation_id)
    await survivor.receive_until("ended")

    worker2, survivor2, conversation2 = await _chat(chat_organization)
    await worker2.send(type="case_link", conversation=conversation2, reference="NOPE1234")
    assert (await worker2.receive_until("error"))["error"] == "no_case"
    await worker2.send(type="case_link", conversation=conversation2, reference=reference.lower())
    assert (await worker2.receive_until("case"))["reference"] == reference
    assert await _verify(worker2, survivor2, conversation2, CODE_WORD) == "verified"


async def test_case_of_another_organization_cannot_be_linked(
    chat_organization, other_chat_organization
):
    worker, survivor, conversation_id = await _chat(chat_organization)
    reference = await _open_case_with_code_word(worker, survivor, conversation_id)
    stranger, _survivor, other_conversation = await _chat(other_chat_organization)
    await stranger.send(type="case_link", conversation=other_conversation, reference=reference)
    assert (await stranger.receive_until("error"))["error"] == "no_case"


async def test_verification_without_case_or_by_another_worker(chat_organization):
    worker, _survivor, conversation_id = await _chat(chat_organization)
    await worker.send(type="verify", conversation=conversation_id)
    assert (await worker.receive_until("error"))["error"] == "no_case"
    colleague = await Worker(
        chat_organization, await sync_to_async(on_shift)(chat_organization)
    ).open()
    for kind in ("verify", "case_open"):
        await colleague.send(type=kind, conversation=conversation_id)
        assert (await colleague.receive_until("error"))["error"] == "not_yours"


async def test_safe_words_alert_the_worker_only_and_are_never_kept_or_shown(
    chat_organization, captured_logs
):
    admin = await sync_to_async(_admin)(chat_organization)
    client = await sync_to_async(client_for)(chat_organization, admin)
    await sync_to_async(_save_settings)(client, SAFE_WORD)

    worker, survivor, conversation_id = await _chat(chat_organization)
    reference = await _open_case_with_code_word(worker, survivor, conversation_id)
    assert reference
    await survivor.send(type="code_word", purpose="safe_word", word=CASE_SAFE_WORD)
    await survivor.receive_until("code_word_done")

    await survivor.send(type="message", client_id="plain", text="Hello, how are you?")
    mine = await survivor.receive_until("message", seq=2)
    assert mine["text"] == "Hello, how are you?"
    await survivor.send(
        type="message", client_id="org-word", text=f"I would like some {SAFE_WORD.upper()}!"
    )
    mine = await survivor.receive_until("message", seq=3)
    assert mine["text"] == f"I would like some {SAFE_WORD.upper()}!"
    await survivor.send(
        type="message", client_id="case-word", text="My Knitting  Circle meets today"
    )
    assert (await survivor.receive_until("message", seq=4))["from"] == "survivor"

    alerts = []
    relayed = {}
    while len(relayed) < 3 or len(alerts) < 2:
        frame = await worker.receive()
        if frame["type"] == "safe_word":
            alerts.append(frame)
        elif frame["type"] == "message" and frame["seq"] >= 2:
            relayed[frame["seq"]] = frame["text"]
    assert len(alerts) == 2
    assert relayed[2] == "Hello, how are you?"
    assert relayed[3] == "I would like some •••"
    assert relayed[4] == "My ••• ••• meets today"
    # Nothing unusual on her side: no alert frame reached her.
    assert not [f for f in await survivor.drain(0.3) if f["type"] not in ("message", "ack")]

    secrets_ = [SAFE_WORD, CASE_SAFE_WORD, "knitting", CODE_WORD.lower()]
    staff_frames = str(worker.raw).lower()
    assert not [word for word in secrets_ if word in staff_frames]
    stored = (await _db(chat_organization, _database_text)).lower()
    assert not [word for word in secrets_ if word in stored]
    logged = captured_logs.getvalue().lower()
    assert not [word for word in secrets_ if word in logged]


def _admin(organization):
    from tests.factories import staff_create

    return staff_create(organization, [Role.ORG_ADMIN])


def _save_settings(client, safe_word):
    page = client.get("/staff/settings/")
    form = page.context["form"]
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        key = f"settings-{name}"
        if isinstance(value, list) or value is not None:
            data[key] = value
    data["settings-safe_word"] = safe_word
    data.update(
        {
            "hours-TOTAL_FORMS": "0",
            "hours-INITIAL_FORMS": "0",
            "closures-TOTAL_FORMS": "0",
            "closures-INITIAL_FORMS": "0",
        }
    )
    response = client.post("/staff/settings/", data)
    assert response.status_code == 302, response.context["form"].errors


def _database_text():
    chunks = []
    with as_database_owner(), connection.cursor() as cursor:
        for model in apps.get_models():
            columns = [
                field.column
                for field in model._meta.concrete_fields
                if field.get_internal_type() in ("CharField", "TextField", "JSONField")
            ]
            if columns:
                casts = ", ".join(f'CAST("{column}" AS text)' for column in columns)
                cursor.execute(f'SELECT {casts} FROM "{model._meta.db_table}"')
                chunks.extend(str(value) for row in cursor.fetchall() for value in row)
    return "\n".join(chunks)
