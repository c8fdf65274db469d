"""Hostile frames on the crisis-chat sockets: each is refused out loud and the socket stays open."""

import json

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from conversations.models import CannedMessage, Conversation, Message
from tests.conversations.conftest import Survivor, in_tenant, live_chat
from tests.websocket import Raw, frame_text

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

# 5,000 levels of nesting in 10 KB: under the frame limit.
DEEP = Raw("[" * 5000 + "]" * 5000)
LONE_SURROGATE = Raw(r'"\ud800"')
NUL = Raw(r'"a\u0000b"')


SURVIVOR_IN_CHAT = [
    (DEEP, None),
    # Too deep to read at all: not even its client id.
    (frame_text({"type": "message", "client_id": "deep", "text": DEEP}), None),
    (frame_text({"type": "message", "client_id": "list", "text": Raw("[[1]]")}), "list"),
    (frame_text({"type": "message", "client_id": "s1", "text": LONE_SURROGATE}), "s1"),
    (frame_text({"type": "message", "text": "hello", "client_id": LONE_SURROGATE}), None),
    (frame_text({"type": "message", "text": "hello", "client_id": NUL}), None),
    (frame_text({"type": "code_word", "purpose": "verify", "word": LONE_SURROGATE}), None),
    (
        frame_text({"type": "code_word", "purpose": "set", "word": "x", "current": LONE_SURROGATE}),
        None,
    ),
]

SURVIVOR_BEFORE_START = [
    frame_text({"type": "start", "safety": "worried", "ticket": LONE_SURROGATE}),
    frame_text({"type": "start", "ticket": "x", "safety": "worried", "language": LONE_SURROGATE}),
    frame_text({"type": "start", "ticket": "x", "safety": "worried", "language": NUL}),
    frame_text({"type": "start", "ticket": "x", "safety": LONE_SURROGATE}),
    frame_text({"type": "resume", "last_seq": 0, "token": LONE_SURROGATE}),
    frame_text({"type": "resume", "last_seq": 0, "token": NUL}),
]


async def test_survivor_hostile_frames_are_refused_and_the_chat_goes_on(chat_organization):
    worker, survivor, _conversation_id = await live_chat(chat_organization)
    for text, client_id in SURVIVOR_IN_CHAT:
        await survivor.send_refused(text, client_id)
    await survivor.send(type="message", client_id="fine", text="Still here.")
    assert (await survivor.receive_until("ack"))["seq"] == 2
    assert (await worker.receive_until("message"))["text"] == "Still here."

    newcomer = await Survivor(chat_organization).open()
    for text in SURVIVOR_BEFORE_START:
        await newcomer.send_refused(text)
    assert (await newcomer.start())["type"] == "started"


async def test_staff_hostile_frames_are_refused_and_the_chat_goes_on(chat_organization):
    worker, survivor, conversation_id = await live_chat(chat_organization)
    about = {"conversation": conversation_id}
    for text, client_id in [
        (DEEP, None),
        (frame_text({"type": "message", **about, "client_id": "w1", "text": LONE_SURROGATE}), "w1"),
        (frame_text({"type": "message", **about, "text": "hi", "client_id": NUL}), None),
        (frame_text({"type": "canned", **about, "canned": 1, "client_id": NUL}), None),
        (frame_text({"type": "interpreter_request", **about, "language": NUL}), None),
        (frame_text({"type": "interpreter_request", **about, "language": LONE_SURROGATE}), None),
        (frame_text({"type": "case_link", **about, "reference": NUL}), None),
        (frame_text({"type": "case_link", **about, "reference": LONE_SURROGATE}), None),
        (frame_text({"type": "resume", "last_seq": 0, "conversation": NUL}), None),
    ]:
        await worker.send_refused(text, client_id)
    await worker.send(type="message", conversation=conversation_id, client_id="ok", text="Here.")
    assert (await worker.receive_until("ack"))["seq"] == 2
    assert (await survivor.receive_until("message"))["text"] == "Here."


async def test_a_boolean_is_no_id_and_no_number(chat_organization):
    worker, survivor, conversation_id = await live_chat(chat_organization)

    def canned_create():
        return CannedMessage.objects.create(
            organization=chat_organization, title="Hello", body_en="Hello.", body_fr="Bonjour."
        )

    await in_tenant(chat_organization, canned_create)
    about = {"conversation": conversation_id}
    for frame, client_id in [
        ({"type": "canned", **about, "canned": True, "client_id": "c1"}, "c1"),
        ({"type": "canned", **about, "canned": 1.0, "client_id": "c2"}, "c2"),
        ({"type": "block", **about, "hours": True}, None),
        ({"type": "block", **about, "hours": 0}, None),
        ({"type": "transfer", **about, "to": True}, None),
        ({"type": "resume", **about, "last_seq": True}, None),
        ({"type": "end", **about, "debrief": 1}, None),
    ]:
        await worker.send_refused(json.dumps(frame), client_id)
    for frame in [
        {"type": "interpreter_answer", "agree": 1},
        {"type": "resume", "token": survivor.token, "last_seq": False},
        {"type": "message", "client_id": "s", "text": "x", "urgent": True},
    ]:
        await survivor.send_refused(json.dumps(frame), frame.get("client_id"))

    def state():
        conversation = Conversation.objects.get()
        return conversation.state, Message.objects.count()

    assert await in_tenant(chat_organization, state) == ("active", 1)


@pytest.fixture
def messages_refused_by_the_database(db):
    """Make PostgreSQL refuse every new crisis-chat message, as a full disk does."""
    table = Message._meta.db_table

    def run(sql):
        # As the owner: the application role may not add triggers to tables.
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
            cursor.execute(sql)
            cursor.execute(f'SET ROLE "{settings.DATABASE_APP_ROLE}"')

    def refuse():
        run(
            "CREATE FUNCTION tests_disk_full() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'could not extend file' USING ERRCODE = '53100'; END $$; "
            f'CREATE TRIGGER tests_disk_full BEFORE INSERT ON "{table}" '
            "FOR EACH ROW EXECUTE FUNCTION tests_disk_full()"
        )

    def accept():
        run(
            f'DROP TRIGGER IF EXISTS tests_disk_full ON "{table}"; '
            "DROP FUNCTION IF EXISTS tests_disk_full()"
        )

    yield sync_to_async(refuse), sync_to_async(accept)
    accept()


async def test_a_failing_handler_leaves_as_a_dropped_socket_does(
    chat_organization, messages_refused_by_the_database, caplog
):
    refuse, accept = messages_refused_by_the_database
    worker, survivor, conversation_id = await live_chat(chat_organization)
    await refuse()

    await survivor.send(type="message", client_id="lost", text="A secret I told no one.")
    assert await survivor.close_code() == 1011
    # Her departure was counted: the worker is told, and the grace period runs.
    assert (await worker.receive_until("presence")) == {
        "type": "presence",
        "conversation": conversation_id,
        "connected": False,
    }

    def presence():
        conversation = Conversation.objects.get()
        return conversation.survivor_sockets, conversation.survivor_left_at is not None

    assert await in_tenant(chat_organization, presence) == (0, True)
    [record] = [r for r in caplog.records if r.name == "shelterchat.consumers"]
    line = record.getMessage()
    assert record.levelname == "ERROR" and "OperationalError" in line and "\n" not in line
    assert "secret" not in line and "lost" not in line and record.exc_info is None

    # She comes back once the database takes messages again; nothing was stored twice.
    await accept()
    await survivor.resume()
    await survivor.send(type="message", client_id="lost", text="A secret I told no one.")
    assert (await survivor.receive_until("ack"))["seq"] == 2
    assert (await worker.receive_until("message"))["text"] == "A secret I told no one."
    assert await in_tenant(chat_organization, presence) == (1, False)
