"""Group chats over real WebSockets (the project's ASGI stack, Redis channel layer)."""

import datetime

import pytest
from asgiref.sync import sync_to_async
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Role
from groups.models import GroupMeeting, MeetingKey, MeetingMessage, MeetingParticipant
from groups.selectors import sitting_next
from groups.services import meeting_sweep
from policies.models import AuditEntry
from policies.tenancy import organization_context
from tests.factories import client_for, staff_create
from tests.groups.conftest import (
    LiveSocket,
    agreement_publish,
    arrive,
    facilitator_socket,
    live_group_make,
    participant_client,
    participant_socket,
    session_around,
)
from tests.websocket import communicator

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

FRENCH = "Bonsoir à toutes, je suis contente d'être là."
CHINESE = "大家好，谢谢你们今天在这里。"  # noqa: RUF001


def _db(organization, function):
    def run():
        with organization_context(organization):
            return function()

    return sync_to_async(run)()


async def _arrive(organization, group, name, **kwargs):
    return await _db(organization, lambda: arrive(organization, group, name, **kwargs))


async def _room(organization, group, moderator, *names):
    """Open a facilitator's socket and let in one participant per name; return them all."""
    facilitator = await facilitator_socket(organization, group, moderator)
    await facilitator.receive_until("roster")
    people = []
    for name in names:
        participant = await _arrive(organization, group, name)
        socket = await participant_socket(organization, group, participant)
        assert (await socket.receive())["type"] == "waiting"
        waiting = await facilitator.receive_until("waiting_room")
        while participant.pk not in [entry["id"] for entry in waiting["waiting"]]:
            waiting = await facilitator.receive_until("waiting_room")
        await facilitator.send(type="admit", participant=participant.pk)
        assert (await socket.receive_until("admitted"))["muted"] is False
        people.append((participant, socket))
    return facilitator, people


async def test_waiting_room_admission_and_refusal(
    organization, moderator, live_group, live_session
):
    facilitator = await facilitator_socket(organization, live_group, moderator)
    assert await facilitator.receive() == {"type": "waiting_room", "waiting": []}
    assert await facilitator.receive() == {"type": "roster", "participants": []}

    kind = await _arrive(organization, live_group, "Kind Fern")
    quiet = await _arrive(organization, live_group, "Quiet River")
    fern = await participant_socket(organization, live_group, kind)
    river = await participant_socket(organization, live_group, quiet)
    assert await fern.receive() == {"type": "waiting"}
    assert await river.receive() == {"type": "waiting"}
    while True:
        waiting = (await facilitator.receive_until("waiting_room"))["waiting"]
        if [entry["here"] for entry in waiting] == [True, True]:
            break
    assert [entry["name"] for entry in waiting] == ["Kind Fern", "Quiet River"]

    await facilitator.send(type="admit", participant=kind.pk)
    assert await fern.receive_until("admitted") == {"type": "admitted", "muted": False}
    roster = await fern.receive_until("roster")
    assert [entry["name"] for entry in roster["participants"]] == ["Kind Fern"]

    await facilitator.send(type="refuse", participant=quiet.pk)
    assert await river.receive() == {"type": "refused"}
    assert await river.close_code() == 4403
    # Waiting people never read the room.
    await facilitator.send(type="message", client_id="f1", text="Welcome.")
    assert (await fern.receive_until("message"))["text"] == "Welcome."

    # Turned away, she cannot come back to this sitting: not by her socket,
    # not by the arrival page.
    again = await participant_socket(organization, live_group, quiet)
    assert await again.receive() == {"type": "refused"}
    assert await again.close_code() == 4403
    with pytest.raises(ValidationError) as refused:
        await _arrive(organization, live_group, "Other Name", known_participant_ids=[quiet.pk])
    assert refused.value.code == "refused"

    def state():
        return MeetingParticipant.objects.get(pk=quiet.pk).state

    assert await _db(organization, state) == "refused"
    actions = await _db(
        organization, lambda: set(AuditEntry.objects.values_list("action", flat=True))
    )
    assert {"live.participant.admit", "live.participant.refuse"} <= actions


async def test_messages_reach_everyone_and_a_removal_reaches_everyone(
    organization, moderator, live_group, live_session
):
    facilitator, [(kind, fern), (_quiet, river)] = await _room(
        organization, live_group, moderator, "Kind Fern", "Quiet River"
    )
    await fern.send(type="message", client_id="m1", text=FRENCH)
    ack = await fern.receive_until("ack")
    assert ack["client_id"] == "m1"
    mine = await fern.receive_until("message")
    assert mine == {
        "type": "message",
        "seq": ack["seq"],
        "from": "Kind Fern",
        "role": "participant",
        "mine": True,
        "client_id": "m1",
        "text": FRENCH,
    }
    theirs = await river.receive_until("message")
    assert theirs["text"] == FRENCH and theirs["from"] == "Kind Fern" and not theirs["mine"]
    assert (await facilitator.receive_until("message"))["text"] == FRENCH

    await facilitator.send(type="message", client_id="f1", text=CHINESE)
    for socket in (fern, river):
        frame = await socket.receive_until("message")
        assert frame["text"] == CHINESE and frame["role"] == "facilitator" and frame["from"] == ""

    # The same message sent again after a dropped connection is stored once.
    await fern.send(type="message", client_id="m1", text=FRENCH)
    assert (await fern.receive_until("ack"))["seq"] == ack["seq"]

    def ciphertexts():
        return [bytes(row) for row in MeetingMessage.objects.values_list("ciphertext", flat=True)]

    stored = await _db(organization, ciphertexts)
    assert len(stored) == 2
    assert all(FRENCH.encode() not in blob and CHINESE.encode() not in blob for blob in stored)

    await facilitator.send(type="remove_message", seq=ack["seq"])
    for socket in (fern, river, facilitator):
        removal = await socket.receive_until("remove")
        assert removal["target"] == ack["seq"]

    def removed():
        entry = MeetingMessage.objects.get(seq=ack["seq"])
        return entry.removed, bytes(entry.ciphertext)

    assert await _db(organization, removed) == (True, b"")

    # A page reloaded afterwards never sees the removed text.
    await fern.socket.disconnect()
    fern = await participant_socket(organization, live_group, kind)
    frames = [await fern.receive() for _ in range(5)]
    assert [frame["type"] for frame in frames] == [
        "admitted",
        "roster",
        "remove",
        "message",
        "remove",
    ]
    assert {"type": "remove", "seq": ack["seq"], "target": ack["seq"]} in frames
    assert [f["text"] for f in frames if f["type"] == "message"] == [CHINESE]
    assert FRENCH not in str(frames)

    # Only facilitators remove, and only what exists.
    await river.send(type="remove_message", seq=ack["seq"] + 1)
    assert (await river.receive_until("error"))["error"] == "unknown_type"
    await facilitator.send(type="remove_message", seq=999)
    assert (await facilitator.receive_until("error"))["error"] == "unknown"


async def test_mute_then_removal_closes_her_socket_for_good(
    organization, moderator, live_group, live_session
):
    facilitator, [(kind, fern), (_quiet, river)] = await _room(
        organization, live_group, moderator, "Kind Fern", "Quiet River"
    )
    await facilitator.send(type="mute", participant=kind.pk)
    assert await fern.receive_until("muted") == {"type": "muted", "muted": True}
    roster = await river.receive_until("roster")
    while not roster["participants"][0]["muted"]:
        roster = await river.receive_until("roster")
    await fern.send(type="message", client_id="m1", text="Can I speak?")
    error = await fern.receive_until("error")
    assert error["error"] == "muted"
    assert error["message"] == "A facilitator has paused your messages for now."
    await facilitator.send(type="unmute", participant=kind.pk)
    assert await fern.receive_until("muted") == {"type": "muted", "muted": False}
    await fern.send(type="message", client_id="m2", text="Thank you.")
    assert (await river.receive_until("message"))["text"] == "Thank you."

    await facilitator.send(type="remove", participant=kind.pk)
    assert await fern.receive_until("removed") == {"type": "removed"}
    assert await fern.close_code() == 4403
    roster = await river.receive_until("roster")
    while [entry["name"] for entry in roster["participants"]] != ["Quiet River"]:
        roster = await river.receive_until("roster")

    # Her session cannot bring her back, by socket or by the arrival page.
    again = await participant_socket(organization, live_group, kind)
    assert await again.receive() == {"type": "removed"}
    assert await again.close_code() == 4403
    with pytest.raises(ValidationError) as refused:
        await _arrive(organization, live_group, "New Name", known_participant_ids=[kind.pk])
    assert refused.value.code == "removed"
    await facilitator.send(type="message", client_id="f1", text="Let us go on.")
    assert (await river.receive_until("message"))["text"] == "Let us go on."


async def test_reconnect_within_grace_returns_to_the_room(
    organization, moderator, live_group, live_session
):
    facilitator, [(kind, fern)] = await _room(organization, live_group, moderator, "Kind Fern")
    await facilitator.send(type="message", client_id="f1", text="First.")
    await fern.receive_until("message")
    await fern.socket.disconnect()
    await facilitator.send(type="message", client_id="f2", text="While you were away.")
    await facilitator.receive_until("ack")

    # Back within the grace period: no new admission, and nothing missed or doubled.
    fern.socket = None
    connected, _code = await fern.open()
    assert connected
    frames = [await fern.receive() for _ in range(3)]
    assert frames[0] == {"type": "admitted", "muted": False}
    assert frames[1]["type"] == "roster"
    assert frames[2]["text"] == "While you were away."
    assert await fern.drain() == []

    # Gone for longer than the grace period, she waits to be let in again.
    await fern.socket.disconnect()

    def sweep_later():
        meeting = GroupMeeting.objects.get()
        grace = organization.chat_grace_seconds
        return meeting_sweep(
            meeting=meeting,
            grace_seconds=grace,
            now=timezone.now() + datetime.timedelta(seconds=grace + 1),
        )

    await facilitator.drain()
    assert await _db(organization, sweep_later) == "swept"
    back = await participant_socket(organization, live_group, kind)
    assert await back.receive() == {"type": "waiting"}
    waiting = await facilitator.receive_until("waiting_room")
    while not waiting["waiting"]:
        waiting = await facilitator.receive_until("waiting_room")
    assert [entry["id"] for entry in waiting["waiting"]] == [kind.pk]
    # Let in again, she is still counted once.
    await facilitator.send(type="admit", participant=kind.pk)
    await back.receive_until("admitted")

    def count():
        return GroupMeeting.objects.get().participant_count

    assert await _db(organization, count) == 1


async def test_the_link_opens_before_the_start_and_the_room_closes_at_the_end(
    organization, moderator, live_group
):
    """The waiting room opens ``waiting_room_minutes`` (10) before the start; the clock is
    given to the services, and the sockets' own timers end the sitting on time."""
    later = await _db(
        organization,
        lambda: session_around(organization, live_group, started=-30 * 60, ends_in=90 * 60),
    )
    starts_at = await _db(
        organization,
        lambda: sitting_next(organization=organization, group=live_group, now=timezone.now()),
    )
    assert starts_at.session == later
    with pytest.raises(ValidationError) as closed:
        await _arrive(organization, live_group, "Early Bird")
    assert closed.value.code == "closed"
    # No facilitator's console either, until the waiting room opens.
    client = await sync_to_async(client_for)(organization, moderator)
    early = communicator(organization, f"/ws/staff/groups/{live_group.pk}/live/", client)
    assert (await early.connect())[0] is False
    ten_minutes_before = starts_at.starts_at - datetime.timedelta(minutes=10)
    with pytest.raises(ValidationError):
        await _arrive(
            organization,
            live_group,
            "Early Bird",
            now=ten_minutes_before - datetime.timedelta(seconds=1),
        )
    seat = await _arrive(organization, live_group, "Early Bird", now=ten_minutes_before)
    assert seat.state == "waiting"

    # A sitting in progress that ends in four seconds: everyone's sockets close on time.
    await _db(organization, lambda: later.delete())
    await _db(organization, lambda: session_around(organization, live_group, ends_in=4))
    facilitator, [(kind, fern)] = await _room(organization, live_group, moderator, "Kind Fern")
    waiting = await _arrive(organization, live_group, "Quiet River")
    river = await participant_socket(organization, live_group, waiting)
    await fern.send(type="message", client_id="m1", text=FRENCH)
    await fern.receive_until("ack")
    for socket in (fern, river, facilitator):
        assert await socket.receive_until("ended", timeout=8) == {"type": "ended"}
        assert await socket.close_code() == 1000

    def after_end():
        meeting = GroupMeeting.objects.get(state="ended", outcome="scheduled")
        return (
            meeting.participant_count,
            MeetingMessage.objects.count(),
            MeetingKey.objects.filter(meeting=meeting).count(),
            MeetingParticipant.objects.filter(meeting=meeting).count(),
        )

    assert await _db(organization, after_end) == (1, 0, 0, 0)
    # After the end the link shows the next sitting, and the socket says it ended.
    again = await participant_socket(organization, live_group, kind)
    assert await again.receive() == {"type": "ended"}


async def test_ending_erases_everything_but_the_count(
    organization, moderator, live_group, live_session
):
    facilitator, [(_kind, fern), (_quiet, river)] = await _room(
        organization, live_group, moderator, "Kind Fern", "Quiet River"
    )
    third = await _arrive(organization, live_group, "Brave Lark")
    lark = await participant_socket(organization, live_group, third)
    assert await lark.receive() == {"type": "waiting"}
    await fern.send(type="message", client_id="m1", text=FRENCH)
    # Said (stored) before Lark is let in.
    await fern.receive_until("ack")
    await facilitator.send(type="pin", client_id="p1", text="Hotline: 1-800-000-0000")
    pinned = await river.receive_until("pin")
    assert pinned["text"] == "Hotline: 1-800-000-0000"

    # Someone let in later sees the pinned resource, not what was said before her.
    await facilitator.send(type="admit", participant=third.pk)
    frames = [await lark.receive() for _ in range(3)]
    assert [frame["type"] for frame in frames] == ["admitted", "pinned", "roster"]
    assert frames[1]["text"] == "Hotline: 1-800-000-0000"
    assert await lark.drain() == []

    def invite():
        from groups.services import session_invite_create

        return session_invite_create(
            organization=organization, actor=moderator, session=live_session, max_uses=2
        )

    await _db(organization, invite)
    await facilitator.send(type="end")
    for socket in (fern, river, lark, facilitator):
        assert await socket.receive_until("ended") == {"type": "ended"}

    def left():
        from groups.models import SessionInvite

        meeting = GroupMeeting.objects.get()
        return {
            "state": (meeting.state, meeting.outcome, meeting.participant_count),
            "rows": (
                MeetingMessage.objects.count(),
                MeetingKey.objects.count(),
                MeetingParticipant.objects.count(),
                SessionInvite.objects.count(),
            ),
            "audit": set(AuditEntry.objects.values_list("action", flat=True)),
        }

    remaining = await _db(organization, left)
    assert remaining["state"] == ("ended", "facilitator", 3)
    assert remaining["rows"] == (0, 0, 0, 0)
    assert {"live.end", "live.pin", "live.invite.create"} <= remaining["audit"]

    # The count stays for the organization's window, then goes.
    def purge(days):
        from policies.retention import enforce_retention

        return enforce_retention(now=timezone.now() + datetime.timedelta(days=days))

    assert (await sync_to_async(purge)(364))["group_chat_attendance"] == 0
    assert (await sync_to_async(purge)(366))["group_chat_attendance"] == 1


async def test_other_organizations_reach_nothing(
    organization, other_organization, moderator, live_group, live_session
):
    _facilitator, [(kind, _fern)] = await _room(organization, live_group, moderator, "Kind Fern")
    outsider = await sync_to_async(staff_create)(other_organization, [Role.MODERATOR])
    await sync_to_async(agreement_publish)(other_organization)
    theirs = await sync_to_async(live_group_make)(other_organization)
    await _db(other_organization, lambda: session_around(other_organization, theirs))

    # Their facilitator, on our host with her session: refused.
    client = await sync_to_async(client_for)(other_organization, outsider)
    socket = communicator(organization, f"/ws/staff/groups/{live_group.pk}/live/", client)
    assert (await socket.connect())[0] is False
    # On their own host, our group's id is nobody's.
    socket = communicator(other_organization, f"/ws/staff/groups/{live_group.pk}/live/", client)
    assert (await socket.connect())[0] is False
    # Our group's link on their host is refused, with our participant's session too.
    ours = await sync_to_async(participant_client)(organization, kind)
    socket = communicator(other_organization, f"/ws/groups/live/{live_group.link_id}/", ours)
    assert (await socket.connect())[0] is False
    # Their group's link, with our participant's id in a session on their host: nothing.
    stranger = await sync_to_async(participant_client)(other_organization, kind)
    socket = LiveSocket(other_organization, f"/ws/groups/live/{theirs.link_id}/", stranger)
    assert (await socket.open())[0]
    assert await socket.receive() == {"type": "ended"}
    # Their facilitator in her own room cannot act on our people.
    theirs_facilitator = await facilitator_socket(other_organization, theirs, outsider)
    for frame in (
        {"type": "admit", "participant": kind.pk},
        {"type": "remove", "participant": kind.pk},
        {"type": "mute", "participant": kind.pk},
    ):
        await theirs_facilitator.send(**frame)
        assert (await theirs_facilitator.receive_until("error"))["error"] == "unknown"
    # And an origin that is not the host's is refused before any consumer runs.
    socket = communicator(
        organization, f"/ws/groups/live/{live_group.link_id}/", ours, origin="http://evil.test"
    )
    assert (await socket.connect())[0] is False

    def unchanged():
        return list(MeetingParticipant.objects.values_list("state", "muted"))

    assert await _db(organization, unchanged) == [("admitted", False)]


async def test_bad_frames_and_people_without_the_role(
    organization, moderator, worker, live_group, live_session
):
    facilitator, [(_kind, fern)] = await _room(organization, live_group, moderator, "Kind Fern")
    for raw, error in (
        ("{not json", "malformed"),
        ('{"type": "launch"}', "unknown_type"),
        ('{"type": "message", "client_id": 5, "text": "x"}', "malformed"),
        ('{"type": "message", "client_id": "x", "text": "   "}', "empty"),
        ('{"type": "message", "client_id": "x", "text": "' + "a" * 2001 + '"}', "too_long"),
    ):
        await fern.socket.send_to(text_data=raw)
        assert (await fern.receive_until("error"))["error"] == error
    await facilitator.send(type="admit", participant="all")
    assert (await facilitator.receive_until("error"))["error"] == "malformed"
    await fern.send(type="message", client_id="ok", text="Still here.")
    assert (await facilitator.receive_until("message"))["text"] == "Still here."

    # A support worker is no facilitator; nor is an unverified moderator.
    for user, verified in ((worker, True), (moderator, False)):
        client = await sync_to_async(client_for)(organization, user, verified)
        socket = communicator(organization, f"/ws/staff/groups/{live_group.pk}/live/", client)
        assert await socket.connect() == (False, 4403)
    # Someone whose session holds no participant is told the session is over for her.
    nobody = LiveSocket(
        organization,
        f"/ws/groups/live/{live_group.link_id}/",
        await sync_to_async(client_for)(organization),
    )
    assert (await nobody.open())[0]
    assert await nobody.receive() == {"type": "ended"}
    assert await nobody.close_code() == 4404
