"""Transfers, escalation, supervisors and interpreters, over real WebSockets."""

import pytest
from asgiref.sync import sync_to_async

from accounts.models import Role
from conversations.models import Conversation
from policies.models import AuditEntry
from policies.tenancy import organization_context
from tests.conversations.conftest import Survivor, Worker, on_shift
from tests.factories import client_for, staff_create
from tests.websocket import communicator

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def _db(organization, function):
    def run():
        with organization_context(organization):
            return function()

    return sync_to_async(run)()


async def _staff(organization, roles=(Role.SUPPORT_WORKER,), shift=True):
    if shift:
        user = await sync_to_async(on_shift)(organization, roles=roles)
    else:
        user = await sync_to_async(staff_create)(organization, list(roles))
    return await Worker(organization, user).open()


async def _chat(organization, language="en"):
    worker = await _staff(organization)
    survivor = await Survivor(organization).open()
    await survivor.start(language=language)
    conversation_id = await worker.next_waiting()
    await worker.send(type="accept", conversation=conversation_id)
    await worker.receive_until("message", seq=1)
    await survivor.receive_until("message", seq=1)
    return worker, survivor, conversation_id


def _actions(organization):
    return _db(organization, lambda: list(AuditEntry.objects.values_list("action", flat=True)))


@pytest.mark.parametrize(
    ("language", "notice"),
    [
        ("en", "You are now talking with someone new."),
        ("fr", "Vous parlez maintenant avec une autre personne."),
    ],
)
async def test_transfer_to_colleague_takes_every_message(chat_organization, language, notice):
    first, survivor, conversation_id = await _chat(chat_organization, language)
    second = await _staff(chat_organization)
    await survivor.send(type="message", client_id="s1", text="before the hand-over")
    await first.receive_until("message", seq=2)

    await first.send(type="transfer", conversation=conversation_id, to=second.user.pk)
    assert (await first.receive_until("transferred"))["conversation"] == conversation_id
    opened = await second.receive_until("conversation")
    assert opened["conversation"] == conversation_id
    history = [await second.receive_until("message") for _ in range(3)]
    assert [m["seq"] for m in history] == [1, 2, 3]
    assert history[1]["text"] == "before the hand-over"
    assert history[2] == {**history[2], "from": "system", "text": notice}
    assert (await survivor.receive_until("message", seq=3))["text"] == notice

    await survivor.send(type="message", client_id="s2", text="after")
    assert (await second.receive_until("message", seq=4))["text"] == "after"
    await first.send(type="message", conversation=conversation_id, client_id="late", text="x")
    assert (await first.receive_until("error"))["error"] == "not_yours"
    assert not [f for f in await first.drain(0.3) if f["type"] == "message"]
    assert "conversation.transfer" in await _actions(chat_organization)


async def test_transfer_back_to_the_queue(chat_organization):
    first, survivor, conversation_id = await _chat(chat_organization)
    await first.send(type="transfer", conversation=conversation_id, to=None)
    await first.receive_until("transferred")
    notice = await survivor.receive_until("message", seq=2)
    assert notice["text"] == "Please wait: someone new will be with you soon."
    assert (await survivor.receive_until("waiting"))["position"] == 1
    second = await _staff(chat_organization)
    assert await second.next_waiting() == conversation_id


async def test_transfer_refused_to_off_shift_or_foreign_staff(
    chat_organization, other_chat_organization
):
    first, _survivor, conversation_id = await _chat(chat_organization)
    off_shift = await sync_to_async(staff_create)(chat_organization, [Role.SUPPORT_WORKER])
    foreign = await sync_to_async(on_shift)(other_chat_organization)
    moderator = await sync_to_async(on_shift)(chat_organization, roles=(Role.MODERATOR,))
    for target in (off_shift, foreign, moderator):
        await first.send(type="transfer", conversation=conversation_id, to=target.pk)
        assert (await first.receive_until("error"))["error"] == "not_available"


async def test_only_the_holder_transfers_or_escalates(chat_organization):
    _first, _survivor, conversation_id = await _chat(chat_organization)
    other = await _staff(chat_organization)
    for frame in (
        {"type": "transfer", "conversation": conversation_id, "to": other.user.pk},
        {"type": "escalate", "conversation": conversation_id},
        {"type": "interpreter_request", "conversation": conversation_id, "language": "Arabic"},
    ):
        await other.send(**frame)
        assert (await other.receive_until("error"))["error"] == "not_yours"


async def test_escalation_observe_then_take_over(chat_organization):
    worker, survivor, conversation_id = await _chat(chat_organization)
    supervisor = await _staff(chat_organization, roles=(Role.SUPERVISOR,))
    overview = await supervisor.receive_until("overview")
    [row] = overview["conversations"]
    assert row["conversation"] == conversation_id and row["escalated"] is False
    assert "text" not in str(row) and "message" not in row

    await worker.send(type="escalate", conversation=conversation_id)
    assert (await supervisor.receive_until("escalation"))["conversation"] == conversation_id
    overview = await supervisor.receive_until("overview")
    assert overview["conversations"][0]["escalated"] is True

    await survivor.send(type="message", client_id="s1", text="he is here")
    await supervisor.send(type="observe", conversation=conversation_id)
    opened = await supervisor.receive_until("conversation")
    assert opened["role"] == "observer"
    assert (await supervisor.receive_until("message", seq=2))["text"] == "he is here"
    # Observing is silent: no notice reached her.
    assert not [f for f in await survivor.drain(0.3) if f.get("from") == "system"]

    await supervisor.send(type="take_over", conversation=conversation_id)
    notice = await survivor.receive_until("message", seq=3)
    assert notice["from"] == "system"
    await worker.receive_until("transferred")
    await supervisor.send(
        type="message",
        conversation=conversation_id,
        client_id="sup",
        text="I am a supervisor, I am here.",
    )
    assert (await survivor.receive_until("message", seq=4))["from"] == "worker"
    actions = await _actions(chat_organization)
    assert {"conversation.escalate", "conversation.observe", "conversation.take_over"} <= set(
        actions
    )


async def test_workers_cannot_observe_or_take_over(chat_organization):
    _worker, _survivor, conversation_id = await _chat(chat_organization)
    colleague = await _staff(chat_organization)
    for kind in ("observe", "take_over"):
        await colleague.send(type=kind, conversation=conversation_id)
        assert (await colleague.receive_until("error"))["error"] == "not_yours"


async def test_debrief_flag_reaches_supervisors_without_content(chat_organization):
    worker, _survivor, conversation_id = await _chat(chat_organization)
    await worker.send(type="end", conversation=conversation_id, debrief=True)
    await worker.receive_until("ended")

    def flagged():
        from conversations.handovers import debrief_list

        return [c.public_id.hex for c in debrief_list(organization=chat_organization)]

    assert await _db(chat_organization, flagged) == [conversation_id]


@pytest.mark.parametrize(
    ("language", "joined", "left"),
    [
        ("en", "An interpreter has joined the chat.", "The interpreter has left the chat."),
        (
            "fr",
            "Une interprète s'est jointe au clavardage.",
            "L'interprète a quitté le clavardage.",
        ),
    ],
)
async def test_interpreter_with_consent(chat_organization, language, joined, left):
    worker, survivor, conversation_id = await _chat(chat_organization, language)
    await survivor.send(type="message", client_id="s-before", text="said before")
    interpreter = await _staff(chat_organization, roles=(Role.INTERPRETER,), shift=False)
    assert (await interpreter.receive_until("interpreter_requests"))["conversations"] == []

    await worker.send(type="interpreter_request", conversation=conversation_id, language="Arabic")
    consent = await survivor.receive_until("interpreter_consent")
    assert consent["language"] == "Arabic"
    await interpreter.send(type="interpret", conversation=conversation_id)
    assert (await interpreter.receive_until("error"))["error"] == "no_consent"

    await survivor.send(type="interpreter_answer", agree=True)
    requests = await interpreter.receive_until("interpreter_requests")
    assert requests["conversations"] == [{"conversation": conversation_id, "language": "Arabic"}]
    await interpreter.send(type="interpret", conversation=conversation_id)
    opened = await interpreter.receive_until("conversation")
    assert opened["role"] == "interpreter"
    # She sees the chat from her arrival: the first message she gets is number 3.
    interpreter.seen[conversation_id] = 2
    notice = await interpreter.receive_until("message")
    assert notice["text"] == joined and notice["seq"] == 3
    assert (await survivor.receive_until("message", seq=3))["text"] == joined

    await interpreter.send(
        type="message", conversation=conversation_id, client_id="i1", text="مرحبا"
    )
    assert (await survivor.receive_until("message", seq=4))["from"] == "interpreter"
    assert (await worker.receive_until("message", seq=4))["text"] == "مرحبا"

    await interpreter.send(type="interpreter_leave", conversation=conversation_id)
    assert (await survivor.receive_until("message", seq=5))["text"] == left
    await survivor.send(type="message", client_id="s-after", text="said after")
    await worker.receive_until("message", seq=6)
    seen = [f for f in await interpreter.drain(0.5) if f["type"] == "message"]
    assert all(f["seq"] <= 5 for f in seen)
    await interpreter.send(
        type="message", conversation=conversation_id, client_id="i2", text="still here?"
    )
    assert (await interpreter.receive_until("error"))["error"] == "not_yours"
    actions = await _actions(chat_organization)
    assert {"interpreter.request", "interpreter.join", "interpreter.leave"} <= set(actions)


async def test_interpreter_refused_when_survivor_declines(chat_organization):
    worker, survivor, conversation_id = await _chat(chat_organization)
    interpreter = await _staff(chat_organization, roles=(Role.INTERPRETER,), shift=False)
    await worker.send(type="interpreter_request", conversation=conversation_id, language="Cree")
    await survivor.receive_until("interpreter_consent")
    await survivor.send(type="interpreter_answer", agree=False)
    assert (await worker.receive_until("interpreter", state="declined"))["language"] == "Cree"
    await interpreter.send(type="interpret", conversation=conversation_id)
    assert (await interpreter.receive_until("error"))["error"] == "no_consent"


async def test_interpreter_sees_no_other_conversation(chat_organization):
    _worker, _survivor, conversation_id = await _chat(chat_organization)
    interpreter = await _staff(chat_organization, roles=(Role.INTERPRETER,), shift=False)
    for frame in (
        {"type": "accept", "conversation": conversation_id},
        {"type": "observe", "conversation": conversation_id},
        {"type": "resume", "conversation": conversation_id, "last_seq": 0},
        {"type": "message", "conversation": conversation_id, "client_id": "x", "text": "x"},
    ):
        await interpreter.send(**frame)
        error = await interpreter.receive_until("error")
        assert error["error"] in ("not_yours", "unknown", "not_on_shift"), frame
    assert not [f for f in await interpreter.drain(0.3) if f["type"] == "message"]


async def test_interpreter_of_another_organization_can_do_nothing(
    chat_organization, other_chat_organization
):
    worker, survivor, conversation_id = await _chat(chat_organization)
    await worker.send(type="interpreter_request", conversation=conversation_id, language="Hindi")
    await survivor.receive_until("interpreter_consent")
    await survivor.send(type="interpreter_answer", agree=True)
    stranger = await _staff(other_chat_organization, roles=(Role.INTERPRETER,), shift=False)
    assert (await stranger.receive_until("interpreter_requests"))["conversations"] == []
    await stranger.send(type="interpret", conversation=conversation_id)
    assert (await stranger.receive_until("error"))["error"] == "unknown"
    client = await sync_to_async(client_for)(other_chat_organization, stranger.user)
    connected, _ = await communicator(chat_organization, "/ws/staff/chat/", client).connect()
    assert not connected

    def state():
        return Conversation.objects.get().interpreter_state

    assert await _db(chat_organization, state) == "consented"


async def test_last_words_reach_her_before_the_end(chat_organization):
    """Events go out in the order they happened: her page is cleared only after the last one."""
    worker, survivor, conversation_id = await _chat(chat_organization)
    for n in range(5):
        await worker.send(
            type="message", conversation=conversation_id, client_id=f"w{n}", text=f"take care {n}"
        )
    await worker.send(type="end", conversation=conversation_id)
    frames = []
    while not frames or frames[-1]["type"] != "ended":
        frames.append(await survivor.receive())
    texts = [frame["text"] for frame in frames if frame["type"] == "message"]
    assert texts == [f"take care {n}" for n in range(5)]
