"""What crisis chat refuses: other tenants, other conversations, bad frames, no consent, abuse."""

import asyncio
import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import cache

from accounts.models import Role
from conversations.models import CannedMessage, Conversation, Message, VisitorBlock
from policies.tenancy import organization_context
from shelterchat.consumers import db
from tests.conversations.conftest import Survivor, Worker, live_chat, on_shift, ticket_for
from tests.factories import staff_create
from tests.websocket import communicator

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def _db(organization, function):
    def run():
        with organization_context(organization):
            return function()

    return sync_to_async(run)()


async def test_survivor_token_replayed_in_another_organization(
    chat_organization, other_chat_organization
):
    survivor = await Survivor(chat_organization).open()
    await survivor.start()
    # Told she waits once her socket is counted.
    await survivor.receive_until("waiting")
    stranger = await Survivor(other_chat_organization).open()
    await stranger.send(type="resume", token=survivor.token, last_seq=0)
    error = await stranger.receive()
    assert error["type"] == "error" and error["error"] == "unknown"
    assert (await stranger.socket.receive_output(timeout=2))["type"] == "websocket.close"

    def states():
        return list(Conversation.objects.values_list("state", "survivor_sockets"))

    assert await _db(chat_organization, states) == [("waiting", 1)]


async def test_other_organizations_worker_can_do_nothing(
    chat_organization, other_chat_organization
):
    _worker, _survivor, conversation_id = await live_chat(chat_organization)
    outsider_user = await sync_to_async(on_shift)(other_chat_organization)
    outsider = await Worker(other_chat_organization, outsider_user).open()
    for frame in (
        {"type": "accept", "conversation": conversation_id},
        {"type": "message", "conversation": conversation_id, "client_id": "x", "text": "hi"},
        {"type": "end", "conversation": conversation_id},
        {"type": "resume", "conversation": conversation_id, "last_seq": 0},
        {"type": "block", "conversation": conversation_id, "hours": 1},
    ):
        await outsider.send(**frame)
        error = await outsider.receive_until("error")
        assert error["error"] in ("unknown", "not_yours"), (frame, error)

    # Nor may she open a socket on the first organization's host with her session.
    from tests.factories import client_for

    client = await sync_to_async(client_for)(other_chat_organization, outsider_user)
    socket = communicator(chat_organization, "/ws/staff/chat/", client)
    connected, _ = await socket.connect()
    assert not connected

    def unchanged():
        conversation = Conversation.objects.get(public_id=conversation_id)
        return conversation.state, Message.objects.count()

    assert await _db(chat_organization, unchanged) == ("active", 1)


async def test_worker_cannot_touch_a_colleagues_conversation(chat_organization):
    _worker, _survivor, conversation_id = await live_chat(chat_organization)
    colleague = await Worker(
        chat_organization, await sync_to_async(on_shift)(chat_organization)
    ).open()
    for frame in (
        {"type": "message", "conversation": conversation_id, "client_id": "x", "text": "hi"},
        {"type": "end", "conversation": conversation_id},
        {"type": "accept", "conversation": conversation_id},
    ):
        await colleague.send(**frame)
        assert (await colleague.receive_until("error"))["error"] in ("not_yours", "taken")


async def test_roles_without_chat_cannot_connect(chat_organization):
    from tests.factories import client_for

    moderator = await sync_to_async(staff_create)(chat_organization, [Role.MODERATOR])
    client = await sync_to_async(client_for)(chat_organization, moderator)
    connected, code = await communicator(chat_organization, "/ws/staff/chat/", client).connect()
    assert not connected and code == 4403
    unverified = await sync_to_async(staff_create)(chat_organization, [Role.SUPPORT_WORKER])
    client = await sync_to_async(client_for)(chat_organization, unverified, verified=False)
    connected, code = await communicator(chat_organization, "/ws/staff/chat/", client).connect()
    assert not connected


async def test_bad_frames_get_errors_and_lose_nothing(chat_organization):
    worker, survivor, conversation_id = await live_chat(chat_organization)
    bad = [
        ("text", "{not json"),
        ("text", '["a list"]'),
        ("text", '{"type": 42}'),
        ("text", '{"type": "launch_missiles"}'),
        ("text", '{"type": "message", "client_id": 5, "text": "x"}'),
        ("text", '{"type": "message", "client_id": "c", "text": ""}'),
        ("text", '{"type": "message", "client_id": "c", "text": "' + "x" * 2001 + '"}'),
        ("text", '{"type": "resume", "token": "t", "last_seq": -1}'),
        ("text", "x" * 20000),
        ("bytes", b"\x00\x01"),
    ]
    for kind, payload in bad:
        if kind == "text":
            await survivor.socket.send_to(text_data=payload)
        else:
            await survivor.socket.send_to(bytes_data=payload)
        assert (await survivor.receive_until("error"))["type"] == "error", payload
    await worker.send(type="message", conversation="not-a-uuid", client_id="x", text="x")
    assert (await worker.receive_until("error"))["error"] == "malformed"
    await worker.send(type="canned", conversation=conversation_id, canned="1", client_id="x")
    assert (await worker.receive_until("error"))["error"] == "malformed"
    await worker.send(type="block", conversation=conversation_id, hours=10**6)
    assert (await worker.receive_until("error"))["error"] == "malformed"

    await survivor.send(type="message", client_id="still-fine", text="still fine")
    assert (await survivor.receive_until("ack"))["seq"] == 2
    assert (await worker.receive_until("message"))["text"] == "still fine"


async def test_actions_before_start_and_after_end(chat_organization):
    survivor = await Survivor(chat_organization).open()
    await survivor.send(type="message", client_id="a", text="hello?")
    assert (await survivor.receive())["error"] == "not_started"
    await survivor.send(type="end")
    assert (await survivor.receive())["error"] == "not_started"

    worker, survivor, conversation_id = await live_chat(chat_organization)
    await survivor.send(type="end")
    await survivor.receive_until("ended")
    await worker.receive_until("ended")
    await worker.send(type="message", conversation=conversation_id, client_id="z", text="x")
    assert (await worker.receive_until("error"))["error"] == "not_yours"
    again = await Survivor(chat_organization).open()
    await again.send(type="resume", token=survivor.token, last_seq=0)
    assert (await again.receive())["error"] == "ended"


async def test_start_needs_the_current_notice_accepted(chat_organization):
    survivor = await Survivor(chat_organization).open()
    assert (await survivor.start(ticket="forged:ticket"))["error"] == "no_consent"

    old_ticket = await sync_to_async(ticket_for)(chat_organization)

    def new_version():
        from policies.services import consent_document_publish

        consent_document_publish(
            organization=chat_organization,
            actor=None,
            kind="chat_notice",
            body_en="v2",
            body_fr="v2",
        )

    await _db(chat_organization, new_version)
    assert (await survivor.start(ticket=old_ticket))["error"] == "no_consent"
    assert (await survivor.start())["type"] == "started"


async def test_ticket_of_another_organization_is_refused(
    chat_organization, other_chat_organization
):
    foreign = await sync_to_async(ticket_for)(other_chat_organization)
    survivor = await Survivor(chat_organization).open()
    assert (await survivor.start(ticket=foreign))["error"] == "no_consent"


async def test_too_many_starts_from_one_address_but_room_for_a_shelter(chat_organization, settings):
    settings.CHAT_STARTS_PER_HOUR_PER_ADDRESS = 3
    await sync_to_async(cache.clear)()

    async def start_from(address):
        survivor = Survivor(chat_organization)
        survivor.socket = communicator(chat_organization, "/ws/connect/")
        survivor.socket.scope["client"] = (address, 50000)
        await survivor.socket.connect()
        return await survivor.start()

    results = [(await start_from("198.51.100.7"))["type"] for _ in range(4)]
    assert results == ["started", "started", "started", "error"]
    assert (await start_from("198.51.100.8"))["type"] == "started"

    def stored_text():
        return str(list(Conversation.objects.values()))

    assert "198.51.100" not in await _db(chat_organization, stored_text)


async def test_blocked_browser_cannot_start_again(chat_organization):
    user = await sync_to_async(on_shift)(chat_organization)
    worker = await Worker(chat_organization, user).open()
    survivor = await Survivor(chat_organization).open(cookie="visit=browser-one; other=x")
    await survivor.start()
    conversation_id = await worker.next_waiting()
    await worker.send(type="accept", conversation=conversation_id)
    await worker.send(type="block", conversation=conversation_id, hours=2)
    ended = await survivor.receive_until("ended")
    assert ended == {"type": "ended", "reason": "blocked"}
    assert (await worker.receive_until("ended"))["outcome"] == "blocked"

    def stored():
        block = VisitorBlock.objects.get()
        return block.token_hash, list(Conversation.objects.values_list("browser_hash", flat=True))

    block_hash, browser_hashes = await _db(chat_organization, stored)
    assert block_hash == hashlib.sha256(b"browser-one").hexdigest()
    assert browser_hashes == [""]
    again = await Survivor(chat_organization).open(cookie="visit=browser-one")
    assert (await again.start())["error"] == "blocked"
    other_browser = await Survivor(chat_organization).open(cookie="visit=browser-two")
    assert (await other_browser.start())["type"] == "started"
    no_cookie = await Survivor(chat_organization).open()
    assert (await no_cookie.start())["type"] == "started"


async def test_a_block_without_the_cookie_still_ends_the_chat(chat_organization):
    worker, survivor, conversation_id = await live_chat(chat_organization)
    await worker.send(type="block", conversation=conversation_id, hours=2)
    assert (await survivor.receive_until("ended"))["reason"] == "blocked"
    assert not await _db(chat_organization, VisitorBlock.objects.exists)


async def test_the_end_tells_her_who_ended_it(chat_organization):
    _worker, survivor, _conversation_id = await live_chat(chat_organization)
    await survivor.send(type="end")
    assert await survivor.receive_until("ended") == {"type": "ended", "reason": "survivor_ended"}
    worker, survivor, conversation_id = await live_chat(chat_organization)
    await worker.send(type="end", conversation=conversation_id)
    assert await survivor.receive_until("ended") == {"type": "ended", "reason": "worker_ended"}


async def test_canned_message_in_her_language(chat_organization):
    def library():
        return CannedMessage.objects.create(
            organization=chat_organization,
            title="Safety",
            body_en="Are you safe now?",
            body_fr="Êtes-vous en sécurité maintenant?",
        ).pk

    canned_id = await _db(chat_organization, library)
    user = await sync_to_async(on_shift)(chat_organization)
    worker = await Worker(chat_organization, user).open()
    survivor = await Survivor(chat_organization).open()
    await survivor.start(language="fr")
    conversation_id = await worker.next_waiting()
    await worker.send(type="accept", conversation=conversation_id)
    await worker.send(type="canned", conversation=conversation_id, canned=canned_id, client_id="c1")
    frame = await survivor.receive_until("message", seq=2)
    assert frame["text"] == "Êtes-vous en sécurité maintenant?"


async def test_supervisor_may_take_chats(chat_organization):
    user = await sync_to_async(on_shift)(chat_organization, roles=(Role.SUPERVISOR,))
    supervisor = await Worker(chat_organization, user).open()
    survivor = await Survivor(chat_organization).open()
    await survivor.start()
    await supervisor.send(type="accept", conversation=await supervisor.next_waiting())
    assert (await supervisor.receive_until("conversation"))["type"] == "conversation"


async def test_overload_is_refused_out_loud_and_stores_nothing(chat_organization, settings):
    """A message that would wait too long for a database thread is refused, not queued."""
    # One thread, so that one long call makes the next one wait.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=1))
    _worker, survivor, _conversation_id = await live_chat(chat_organization)
    # Let her socket finish what accepting the chat set off: it must not be
    # caught waiting for the thread this test is about to hold.
    await asyncio.sleep(0.2)
    await survivor.send(type="ping")
    await survivor.receive_until("pong")
    settings.CHAT_MAX_WAIT_SECONDS = 0.2
    release = threading.Event()
    busy = asyncio.gather(db(release.wait)(), db(release.wait)())
    await asyncio.sleep(0.3)
    await survivor.send(type="message", client_id="later", text="hello")
    error = await survivor.receive_until("error")
    assert error["error"] == "overloaded" and error["client_id"] == "later"

    def stored():
        return Message.objects.filter(client_id="later").count()

    assert await _db(chat_organization, stored) == 0
    release.set()
    await busy
    await survivor.send(type="message", client_id="later", text="hello")
    assert (await survivor.receive_until("ack"))["client_id"] == "later"
    assert await _db(chat_organization, stored) == 1
