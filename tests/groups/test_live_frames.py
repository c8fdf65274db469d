"""Hostile frames on the group-chat sockets: each is refused out loud and the room goes on."""

import json

import pytest
from asgiref.sync import sync_to_async

from groups.models import MeetingMessage, MeetingParticipant
from policies.tenancy import organization_context
from tests.groups.conftest import arrive, facilitator_socket, participant_socket
from tests.websocket import Raw, frame_text

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

DEEP = Raw("[" * 5000 + "]" * 5000)


async def test_hostile_frames_are_refused_and_the_room_goes_on(
    organization, moderator, live_group, live_session
):
    facilitator = await facilitator_socket(organization, live_group, moderator)
    await facilitator.receive_until("roster")
    participant = await sync_to_async(
        lambda: _in_tenant(organization, lambda: arrive(organization, live_group, "Kind Fern"))
    )()
    fern = await participant_socket(organization, live_group, participant)
    assert (await fern.receive())["type"] == "waiting"
    await facilitator.send(type="admit", participant=participant.pk)
    await fern.receive_until("admitted")

    for socket in (fern, facilitator):
        for text, client_id in [
            (DEEP, None),
            (frame_text({"type": "message", "client_id": "s", "text": Raw(r'"\udfff"')}), "s"),
            (frame_text({"type": "message", "text": "hello", "client_id": Raw(r'"\ud800"')}), None),
            (frame_text({"type": "message", "text": "hello", "client_id": Raw(r'"\u0000"')}), None),
            (frame_text({"type": "join", "last_seq": 0, "language": Raw(r'"\u0000"')}), None),
            (frame_text({"type": "message", "client_id": "n", "text": Raw("5")}), "n"),
        ]:
            await socket.send_refused(text, client_id)
    for frame in [
        {"type": "admit", "participant": True},
        {"type": "mute", "participant": -1},
        {"type": "remove", "participant": 2**63},
        {"type": "remove_message", "seq": False},
        {"type": "remove_message"},
        {"type": "pin", "client_id": "p", "text": "x", "sticky": True},
        {"type": "join", "last_seq": 1.5},
    ]:
        await facilitator.send_refused(json.dumps(frame), frame.get("client_id"))

    await fern.send(type="message", client_id="ok", text="Still here.")
    assert (await facilitator.receive_until("message"))["text"] == "Still here."

    def state():
        return (
            list(MeetingParticipant.objects.values_list("state", "muted")),
            MeetingMessage.objects.count(),
        )

    assert await sync_to_async(lambda: _in_tenant(organization, state))() == (
        [("admitted", False)],
        1,
    )


def _in_tenant(organization, function):
    with organization_context(organization):
        return function()
