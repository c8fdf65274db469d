"""WebSocket consumers of group chats: a participant's socket and a facilitator's.

They parse and check frames, call groups.services, and relay events. As in
crisis chat, each socket keeps the highest sequence number it has sent and
fills any gap from the database, so everyone in the room sees every entry of
the meeting's log once and in order even when the channel layer drops an
event; a client that reconnects says which number it saw last.

A participant is known by the participant ids her session on the
organization's host holds (``groups.access``), never by anything in a frame.
Every socket of a meeting ends it at its scheduled end (the first one to
wake does; the others find it ended), so no one stays in a room past its time.
"""

import asyncio
import contextlib
import random

from django.conf import settings
from django.utils import timezone

from accounts.consumers import staff_group
from accounts.models import Role
from accounts.selectors import membership_get
from groups import selectors, services
from groups.access import live_participant_ids
from groups.models import GroupMeeting, MeetingParticipant
from groups.services import LiveError
from shelterchat import frames
from shelterchat.consumers import ActionConsumer, db

CLOSE_NOT_ALLOWED = 4403
CLOSE_GONE = 4404
# Sockets that wake at a meeting's end spread their sweeps over this many seconds.
END_JITTER_SECONDS = 1.0


class MeetingConsumer(ActionConsumer):
    """What both sides share: the meeting's key and gap-free, in-order relay of its log."""

    meeting = None
    key = None
    sent_seq = 0
    reading = False
    # This socket's author id in the log ("p<participant>" or "f<staff user>").
    sender = ""

    async def connect(self):
        self.organization = self.scope["organization"]
        self.joined_groups = set()
        self.tasks = []

    async def group_join(self, name):
        self.joined_groups.add(name)
        await self.channel_layer.group_add(name, self.channel_name)

    async def group_leave(self, name):
        self.joined_groups.discard(name)
        await self.channel_layer.group_discard(name, self.channel_name)

    async def disconnect(self, code):
        for task in self.tasks:
            task.cancel()
        for name in list(self.joined_groups):
            await self.group_leave(name)

    def language_from(self, frame):
        self.language = "fr" if frame.language.startswith("fr") else "en"

    def grace_seconds(self):
        return self.organization.chat_grace_seconds

    def end_on_schedule(self):
        """Sweep the meeting once its scheduled end has come."""

        async def wait_and_sweep():
            delay = (self.meeting.ends_at - timezone.now()).total_seconds()
            await asyncio.sleep(max(delay, 0) + random.uniform(0, END_JITTER_SECONDS))  # noqa: S311
            await db(services.meeting_sweep)(
                meeting=self.meeting, grace_seconds=self.grace_seconds()
            )

        self.tasks.append(asyncio.create_task(wait_and_sweep()))

    async def enter_room(self, after):
        """Join the room, say who is there, and send what this socket has not seen after ``after``.

        The socket joins the room's group before it reads anything, so that
        nothing changed after the reading goes unheard.
        """
        if self.key is None:
            self.key = await db(services.meeting_key)(self.meeting)
        self.sent_seq = after
        self.reading = True
        await self.group_join(services.meeting_group(self.meeting))
        await self.send_snapshot()
        await self.send_missing()

    async def send_snapshot(self):
        roster, _waiting = await db(selectors.meeting_people)(meeting=self.meeting)
        await self.send_json({"type": "roster", "participants": roster})

    async def send_missing(self):
        frames = await db(selectors.meeting_entries_after)(
            meeting=self.meeting, key=self.key, after_seq=self.sent_seq
        )
        for frame in frames:
            await self.send_entry(frame)

    async def send_entry(self, frame):
        if frame["seq"] <= self.sent_seq:
            return
        self.sent_seq = frame["seq"]
        await self.send_json(self.for_client(frame))

    def for_client(self, frame):
        """Replace the author's id with whether this socket wrote it."""
        frame = dict(frame)
        sender = frame.pop("sender", None)
        if sender is not None:
            frame["mine"] = sender == self.sender
        return frame

    async def resume(self, frame):
        """Send again what follows the last number the client says it saw."""
        self.sent_seq = min(frame.last_seq, self.sent_seq)
        await self.send_missing()

    async def live_entry(self, event):
        if not self.reading:
            return
        if event["seq"] > self.sent_seq + 1:
            # An event was dropped on the way: the database has it.
            await self.send_missing()
            return
        await self.send_entry(selectors.meeting_entry_frame_from_event(event=event, key=self.key))

    async def live_roster(self, event):
        if self.reading:
            await self.send_json({"type": "roster", "participants": event["roster"]})

    async def live_waiting(self, event):
        pass

    async def live_ended(self, event):
        self.reading = False
        await self.send_json({"type": "ended"})
        await self.close()


class ParticipantConsumer(MeetingConsumer):
    """A survivor's socket in a group chat: the waiting room, then the room."""

    actions = {
        frames.Join: "act_join",
        frames.Message: "act_message",
        frames.Leave: "act_leave",
        frames.Ping: "act_ping",
    }

    participant = None
    # Whether this socket is counted among her open sockets.
    present = False

    async def connect(self):
        await super().connect()
        self.group = await db(selectors.live_group_get)(
            organization=self.organization, link_id=self.scope["url_route"]["kwargs"]["link_id"]
        )
        if self.group is None:
            await self.close(code=CLOSE_GONE)
            return
        await self.accept()

    async def receive_frame(self, frame):
        if self.participant is None and not isinstance(frame, frames.Join | frames.Ping):
            await self.send_action_error(LiveError("not_admitted"))
            return
        await super().receive_frame(frame)

    async def gone(self, why, code=CLOSE_GONE):
        """Tell her why she is not in the room (ended, refused, removed, left) and close."""
        self.reading = False
        await self.send_json({"type": why})
        await self.close(code=code)

    async def act_join(self, frame):
        if self.participant is not None:
            if self.reading:
                await self.resume(frame)
            return
        self.language_from(frame)
        session = self.scope["session"]
        participant = await db(selectors.participant_of_session)(
            organization=self.organization,
            group=self.group,
            participant_ids=await db(live_participant_ids)(session),
        )
        if participant is None:
            await self.gone("ended")
            return
        meeting = participant.meeting
        if not meeting.is_open_at(timezone.now()):
            await db(services.meeting_sweep)(meeting=meeting, grace_seconds=self.grace_seconds())
            await self.gone("ended" if meeting.ends_at <= timezone.now() else "closed")
            return
        # Her groups before her state: what changes after it is read is heard.
        await self.group_join(services.participant_group(meeting, participant.pk))
        await self.group_join(services.meeting_lobby_group(meeting))
        participant = await db(services.participant_connect)(
            participant=participant, grace_seconds=self.grace_seconds()
        )
        State = MeetingParticipant.State
        if participant is None:
            await self.gone("ended")
            return
        if participant.state in (State.REFUSED, State.REMOVED):
            await self.gone(participant.state, code=CLOSE_NOT_ALLOWED)
            return
        self.present = True
        self.participant = participant
        self.meeting = participant.meeting
        self.sender = f"p{participant.pk}"
        self.end_on_schedule()
        if participant.state == State.ADMITTED:
            await self.admitted(after=max(frame.last_seq, participant.first_seq))
        else:
            await self.send_json({"type": "waiting"})

    async def admitted(self, after):
        self.key = await db(services.meeting_key)(self.meeting)
        await self.send_json({"type": "admitted", "muted": self.participant.muted})
        await self.enter_room(after)
        await self.group_leave(services.meeting_lobby_group(self.meeting))

    async def send_snapshot(self):
        pinned = await db(selectors.meeting_pin_current)(meeting=self.meeting, key=self.key)
        if pinned is not None:
            await self.send_json(self.for_client(pinned))
        await super().send_snapshot()

    async def act_message(self, frame):
        seq, _created = await db(services.meeting_message_post)(
            meeting=self.meeting,
            participant=self.participant,
            client_id=frame.client_id,
            text=frame.text,
            key=self.key,
        )
        await self.send_json({"type": "ack", "client_id": frame.client_id, "seq": seq})

    async def act_leave(self, frame):
        await db(services.participant_leave)(participant=self.participant)

    async def disconnect(self, code):
        if self.present:
            self.present = False
            with contextlib.suppress(MeetingParticipant.DoesNotExist):
                await db(services.participant_disconnect)(participant=self.participant)
        await super().disconnect(code)

    async def live_ended(self, event):
        # Her row went with the meeting: there is no socket left to count.
        self.present = False
        await super().live_ended(event)

    async def live_admitted(self, event):
        if self.reading:
            return
        participant = await db(selectors.participant_refresh)(participant=self.participant)
        if participant is None or participant.state != MeetingParticipant.State.ADMITTED:
            return
        self.participant = participant
        await self.admitted(after=participant.first_seq)

    async def live_refused(self, event):
        await self.gone("refused", code=CLOSE_NOT_ALLOWED)

    async def live_removed(self, event):
        await self.gone("removed", code=CLOSE_NOT_ALLOWED)

    async def live_left(self, event):
        await self.gone("left")

    async def live_muted(self, event):
        self.participant.muted = event["muted"]
        await self.send_json({"type": "muted", "muted": event["muted"]})


class FacilitatorConsumer(MeetingConsumer):
    """A facilitator's socket: the waiting room, the room, and the tools to run it.

    Every moderator of the organization may facilitate; two or more at once
    co-host, each seeing and doing the same.
    """

    actions = {
        frames.Join: "act_join",
        frames.Message: "act_message",
        frames.Pin: "act_pin",
        frames.RemoveMessage: "act_remove_message",
        frames.Admit: "act_admit",
        frames.Refuse: "act_refuse",
        frames.Remove: "act_remove",
        frames.Mute: "act_mute",
        frames.Unmute: "act_unmute",
        frames.End: "act_end",
        frames.Ping: "act_ping",
    }

    async def connect(self):
        await super().connect()
        self.user = self.scope["user"]
        if not self.user.is_authenticated or not self.user.is_verified():
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        membership = await db(membership_get)(organization=self.organization, user=self.user)
        if membership is None or not membership.has_role(Role.MODERATOR):
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        group = await db(selectors.live_group_get)(
            organization=self.organization, group_id=self.scope["url_route"]["kwargs"]["group_id"]
        )
        if group is not None:
            self.meeting = await db(services.meeting_open)(
                organization=self.organization, group=group
            )
        if self.meeting is None:
            await self.close(code=CLOSE_GONE)
            return
        self.sender = f"f{self.user.pk}"
        await self.accept()
        await self.group_join(staff_group(self.organization.pk, self.user.pk))
        await self.group_join(services.meeting_staff_group(self.meeting))
        self.end_on_schedule()
        self.tasks.append(asyncio.create_task(self.sweep_periodically()))

    async def sweep_periodically(self):
        while True:
            await asyncio.sleep(settings.CHAT_SWEEP_SECONDS)
            await db(services.meeting_sweep)(
                meeting=self.meeting, grace_seconds=self.grace_seconds()
            )

    async def act_join(self, frame):
        self.language_from(frame)
        if self.reading:
            await self.resume(frame)
            return
        await self.enter_room(frame.last_seq)

    async def send_snapshot(self):
        roster, waiting = await db(selectors.meeting_people)(meeting=self.meeting)
        await self.send_json({"type": "waiting_room", "waiting": waiting})
        await self.send_json({"type": "roster", "participants": roster})

    async def post(self, frame, pin=False):
        seq, _created = await db(services.meeting_message_post)(
            meeting=self.meeting,
            staff=self.user,
            pin=pin,
            client_id=frame.client_id,
            text=frame.text,
            key=self.key,
        )
        await self.send_json({"type": "ack", "client_id": frame.client_id, "seq": seq})

    async def act_message(self, frame):
        await self.post(frame)

    async def act_pin(self, frame):
        await self.post(frame, pin=True)

    async def act_remove_message(self, frame):
        await db(services.meeting_message_remove)(
            meeting=self.meeting, actor=self.user, seq=frame.seq
        )

    async def person(self, frame):
        participant = await db(selectors.access_meeting_participant)(
            meeting=self.meeting, participant_id=frame.participant
        )
        if participant is None:
            raise LiveError("unknown")
        return participant

    async def act_admit(self, frame):
        await db(services.participant_admit)(
            organization=self.organization, actor=self.user, participant=await self.person(frame)
        )

    async def act_refuse(self, frame):
        await db(services.participant_refuse)(
            organization=self.organization, actor=self.user, participant=await self.person(frame)
        )

    async def act_remove(self, frame):
        await db(services.participant_remove)(
            organization=self.organization, actor=self.user, participant=await self.person(frame)
        )

    async def act_mute(self, frame):
        await db(services.participant_mute)(
            organization=self.organization,
            actor=self.user,
            participant=await self.person(frame),
            muted=True,
        )

    async def act_unmute(self, frame):
        await db(services.participant_mute)(
            organization=self.organization,
            actor=self.user,
            participant=await self.person(frame),
            muted=False,
        )

    async def act_end(self, frame):
        await db(services.meeting_end)(
            meeting=self.meeting,
            outcome=GroupMeeting.Outcome.FACILITATOR,
            actor=self.user,
        )

    async def live_roster(self, event):
        await self.send_json({"type": "roster", "participants": event["roster"]})

    async def live_waiting(self, event):
        await self.send_json({"type": "waiting_room", "waiting": event["waiting"]})

    async def staff_disconnect(self, event):
        await self.close(code=CLOSE_NOT_ALLOWED)
