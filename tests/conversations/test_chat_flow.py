"""Crisis chat over real WebSockets (the project's ASGI stack, Redis channel layer)."""

import asyncio
import datetime

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from accounts.models import Role
from conversations.models import Conversation, ConversationKey, Message
from conversations.services import conversation_sweep
from policies.models import AuditEntry
from policies.tenancy import organization_context
from tests.conversations.conftest import Survivor, Worker, on_shift

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ARABIC = "أنا بحاجة إلى مساعدة، هل يمكنك سماعي؟"


def _db(organization, function):
    def run():
        with organization_context(organization):
            return function()

    return sync_to_async(run)()


async def test_whole_chat_then_erasure(chat_organization):
    organization = chat_organization
    user = await sync_to_async(on_shift)(organization)
    worker = await Worker(organization, user).open()
    assert (await worker.receive())["type"] == "queue"

    survivor = await Survivor(organization).open()
    started = await survivor.start(safety="worried", language="en")
    assert started["type"] == "started"
    waiting = await survivor.receive()
    assert waiting["type"] == "waiting" and waiting["position"] == 1
    # Told no one has answered after the organization's wait (10 minutes by default).
    assert 590 <= waiting["unanswered_in"] <= 600

    queue = await worker.receive_until("queue")
    [waiting] = queue["conversations"]
    assert waiting["safety"] == "worried" and waiting["language"] == "en"
    conversation_id = waiting["conversation"]

    await worker.send(type="accept", conversation=conversation_id)
    opened = await worker.receive_until("conversation")
    assert opened["safety"] == "worried"
    opening = await worker.receive_until("message")
    assert opening["from"] == "worker" and opening["seq"] == 1
    # Events of different groups may arrive in either order; each is handled alone.
    frames = [await survivor.receive(), await survivor.receive()]
    assert {"type": "active"} in frames
    assert [f["text"] for f in frames if f["type"] == "message"] == [opening["text"]]

    await survivor.send(type="message", client_id="m1", text=ARABIC)
    ack = await survivor.receive_until("ack")
    assert ack == {"type": "ack", "client_id": "m1", "seq": 2}
    relayed = await worker.receive_until("message")
    assert relayed["text"] == ARABIC and relayed["from"] == "survivor"

    await worker.send(
        type="message",
        conversation=conversation_id,
        client_id="w1",
        text="Je suis là. 我在这里 🌱 ᐊᐃᓐᓇ",
    )
    from_worker = await survivor.receive_until("message", **{"from": "worker"})
    assert from_worker["text"] == "Je suis là. 我在这里 🌱 ᐊᐃᓐᓇ"

    def stored():
        conversation = Conversation.objects.get(public_id=conversation_id)
        return (
            list(
                Message.objects.filter(conversation=conversation).values_list(
                    "ciphertext", flat=True
                )
            ),
            ConversationKey.objects.filter(conversation=conversation).count(),
        )

    ciphertexts, keys = await _db(organization, stored)
    assert len(ciphertexts) == 3 and keys == 1
    assert all(ARABIC.encode() not in bytes(blob) for blob in ciphertexts)

    await worker.send(type="end", conversation=conversation_id)
    assert (await survivor.receive_until("ended")) == {"type": "ended", "reason": "worker_ended"}
    assert (await survivor.socket.receive_output(timeout=2))["type"] == "websocket.close"
    assert (await worker.receive_until("ended"))["outcome"] == "worker_ended"

    def after_end():
        conversation = Conversation.objects.get(public_id=conversation_id)
        return (
            conversation.state,
            conversation.outcome,
            conversation.worker_id,
            Message.objects.count(),
            ConversationKey.objects.count(),
            set(AuditEntry.objects.values_list("action", flat=True)),
        )

    state, outcome, worker_id, messages, keys, actions = await _db(organization, after_end)
    assert (state, outcome, worker_id) == ("ended", "worker_ended", user.pk)
    assert messages == 0 and keys == 0
    assert {"conversation.accept", "conversation.end"} <= actions

    await worker.send(type="message", conversation=conversation_id, client_id="late", text="x")
    assert (await worker.receive_until("error"))["error"] == "not_yours"
    await worker.socket.disconnect()


async def test_two_workers_accept_at_once_one_wins(chat_organization):
    organization = chat_organization
    first = await Worker(organization, await sync_to_async(on_shift)(organization)).open()
    second = await Worker(organization, await sync_to_async(on_shift)(organization)).open()
    survivor = await Survivor(organization).open()
    await survivor.start()
    conversation_id = await first.next_waiting()

    await asyncio.gather(
        first.send(type="accept", conversation=conversation_id),
        second.send(type="accept", conversation=conversation_id),
    )

    async def outcome(worker):
        while True:
            frame = await worker.receive()
            if frame["type"] in ("conversation", "error"):
                return frame

    results = await asyncio.gather(outcome(first), outcome(second))
    kinds = sorted(frame["type"] for frame in results)
    assert kinds == ["conversation", "error"]
    [error] = [frame for frame in results if frame["type"] == "error"]
    assert error["error"] == "taken"
    assert error["message"] == "Another worker has already accepted this chat."

    def winner():
        return Conversation.objects.get(public_id=conversation_id).worker_id

    assert await _db(organization, winner) in (first.user.pk, second.user.pk)
    await first.socket.disconnect()
    await second.socket.disconnect()


async def test_no_new_chats_in_last_half_hour_of_shift(chat_organization):
    organization = chat_organization
    ending = await sync_to_async(on_shift)(organization, hours=0.4)
    worker = await Worker(organization, ending).open()
    queue = await worker.receive_until("queue")
    assert queue == {"type": "queue", "conversations": [], "offers": "shift_ending"}
    survivor = await Survivor(organization).open()
    await survivor.start()
    assert (await worker.receive_until("queue"))["conversations"] == []

    def waiting_id():
        return Conversation.objects.get().public_id.hex

    conversation_id = await _db(organization, waiting_id)
    await worker.send(type="accept", conversation=conversation_id)
    assert (await worker.receive_until("error"))["error"] == "shift_ending"


async def test_off_shift_worker_is_not_offered_chats(chat_organization):
    from tests.factories import staff_create

    user = await sync_to_async(staff_create)(chat_organization, [Role.SUPPORT_WORKER])
    worker = await Worker(chat_organization, user).open()
    assert (await worker.receive_until("queue"))["offers"] == "not_on_shift"


async def test_reconnect_within_grace_loses_and_doubles_nothing(chat_organization):
    organization = chat_organization
    user = await sync_to_async(on_shift)(organization)
    worker = await Worker(organization, user).open()
    survivor = await Survivor(organization).open()
    await survivor.start()
    conversation_id = await worker.next_waiting()
    await worker.send(type="accept", conversation=conversation_id)
    await survivor.receive_until("message")  # the opening message

    # Her connection drops just after she sent a message, before the ack.
    await survivor.send(type="message", client_id="while-dropping", text="first")
    await survivor.socket.disconnect()
    assert (await worker.receive_until("presence"))["connected"] is False
    await worker.send(
        type="message",
        conversation=conversation_id,
        client_id="w-away",
        text="Are you still there?",
    )
    await worker.receive_until("ack")

    await survivor.resume()
    # Her page sends again what it never saw acknowledged.
    await survivor.send(type="message", client_id="while-dropping", text="first")
    frames = [await survivor.receive() for _ in range(4)]
    texts = [frame["text"] for frame in frames if frame["type"] == "message"]
    assert texts == ["first", "Are you still there?"]
    assert {"type": "ack", "client_id": "while-dropping", "seq": 2} in frames

    def stored_seqs():
        return list(Message.objects.order_by("seq").values_list("seq", "client_id"))

    assert await _db(organization, stored_seqs) == [
        (1, "opening"),
        (2, "while-dropping"),
        (3, "w-away"),
    ]
    # Nothing reached either side twice: every frame was checked seq by seq.
    await worker.receive_until("message", seq=3)
    assert not [f for f in await worker.drain() if f["type"] == "message"]
    assert not [f for f in await survivor.drain() if f["type"] == "message"]

    def still_live():
        conversation_sweep(
            organization=organization, now=timezone.now() + datetime.timedelta(seconds=119)
        )
        return Conversation.objects.get().state

    assert await _db(organization, still_live) == "active"


async def test_grace_period_expiry_ends_and_erases(chat_organization):
    organization = chat_organization
    survivor = await Survivor(organization).open()
    await survivor.start()
    await survivor.socket.disconnect()

    def sweep(seconds):
        done = conversation_sweep(
            organization=organization, now=timezone.now() + datetime.timedelta(seconds=seconds)
        )
        conversation = Conversation.objects.get()
        return done, conversation.state, conversation.outcome, ConversationKey.objects.count()

    done, state, _outcome, _keys = await _db(organization, lambda: sweep(60))
    assert done == [] and state == "waiting"
    done, state, outcome, keys = await _db(organization, lambda: sweep(121))
    assert [action for _id, action in done] == ["abandoned"]
    assert (state, outcome, keys) == ("ended", "abandoned", 0)

    await survivor.resume()
    error = await survivor.receive_until("error")
    assert error["error"] == "ended"


async def test_silence_warns_then_closes(chat_organization):
    organization = chat_organization
    user = await sync_to_async(on_shift)(organization)
    worker = await Worker(organization, user).open()
    survivor = await Survivor(organization).open()
    await survivor.start(language="fr")
    conversation_id = await worker.next_waiting()
    await worker.send(type="accept", conversation=conversation_id)
    opening = await survivor.receive_until("message")
    assert opening["text"].startswith("Bonjour")
    # She follows the chat once its messages reach her; events before that pass her by.
    await worker.receive_until("message")

    def sweep(minutes):
        return conversation_sweep(
            organization=organization, now=timezone.now() + datetime.timedelta(minutes=minutes)
        )

    assert await _db(organization, lambda: sweep(9)) == []
    assert await _db(organization, lambda: sweep(10.1)) == [(conversation_id, "silence_warned")]
    assert (await survivor.receive_until("silence_warning"))["closes_in_minutes"] == 5
    assert (await worker.receive_until("silence"))["conversation"] == conversation_id
    assert await _db(organization, lambda: sweep(11)) == []
    assert await _db(organization, lambda: sweep(15.2)) == [(conversation_id, "silence_closed")]
    await survivor.receive_until("ended")
    assert (await worker.receive_until("ended"))["outcome"] == "silence"


async def test_survivor_message_resets_silence(chat_organization):
    organization = chat_organization
    user = await sync_to_async(on_shift)(organization)
    worker = await Worker(organization, user).open()
    survivor = await Survivor(organization).open()
    await survivor.start()
    await worker.send(type="accept", conversation=await worker.next_waiting())
    await survivor.receive_until("message")

    def warn():
        return conversation_sweep(
            organization=organization, now=timezone.now() + datetime.timedelta(minutes=11)
        )

    assert len(await _db(organization, warn)) == 1
    await survivor.receive_until("silence_warning")
    await survivor.send(type="message", client_id="here", text="still here")
    await survivor.receive_until("ack")

    def later():
        return conversation_sweep(
            organization=organization, now=timezone.now() + datetime.timedelta(minutes=6)
        )

    assert await _db(organization, later) == []


async def test_closed_during_outage_in_her_language(chat_organization):
    organization = chat_organization
    organization.outage_banner = "Maintenance"
    await sync_to_async(organization.save)()
    survivor = await Survivor(organization).open()
    error = await survivor.start(language="fr")
    assert error["type"] == "error" and error["error"] == "closed"
    assert error["message"] == "Le clavardage est fermé en ce moment."


async def test_closed_outside_hours(organization):
    from tests.conversations.conftest import make_chat_ready

    def hours_elsewhere():
        make_chat_ready(organization)
        from accounts.models import OpeningHours

        OpeningHours.objects.update(opens_at=datetime.time(3), closes_at=datetime.time(3, 1))

    await _db(organization, hours_elsewhere)
    survivor = await Survivor(organization).open()
    assert (await survivor.start())["error"] == "closed"


async def test_burst_of_chats_leaves_every_screen_with_the_final_queue(chat_organization):
    """Refreshes coalesce under a burst; the last frame each side gets is the true state."""
    organization = chat_organization
    user = await sync_to_async(on_shift)(organization)
    worker = await Worker(organization, user).open()
    await worker.receive_until("queue")
    survivors = [await Survivor(organization).open() for _ in range(8)]
    await asyncio.gather(*(survivor.start() for survivor in survivors))

    queue_frames = [f for f in await worker.drain(seconds=1.5) if f["type"] == "queue"]
    assert len(queue_frames[-1]["conversations"]) == 8
    positions = []
    for survivor in survivors:
        waiting = [f for f in await survivor.drain(seconds=0.2) if f["type"] == "waiting"]
        positions.append(waiting[-1]["position"])
    assert sorted(positions) == list(range(1, 9))


async def test_one_console_sweeps_per_interval(chat_organization):
    """Every console asks; one sweep runs, and the next only after the interval."""
    from django.core.cache import cache

    from conversations.services import conversation_sweep_if_due

    await sync_to_async(cache.delete)(f"chat-sweep:{chat_organization.pk}")

    def ask():
        return conversation_sweep_if_due(organization=chat_organization)

    assert await _db(chat_organization, ask) == []
    assert await _db(chat_organization, ask) is None
