"""WebSocket consumers of crisis chat: the survivor's and the worker's.

They parse and check frames, call conversations.services, and relay events.
Each socket keeps the highest sequence number it has sent for each
conversation and fills any gap from the database, so a client sees every
message once and in order even when the channel layer drops an event.
"""

import asyncio
import contextlib

from channels.exceptions import StopConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings

from accounts.models import Role
from accounts.selectors import membership_get
from conversations import browser, casework, handovers, selectors, services
from conversations.models import Conversation, Message
from conversations.services import ChatError
from shelterchat import frames
from shelterchat.consumers import ActionConsumer, ActionError, CoalescedRefresh, db

CLOSE_NOT_ALLOWED = 4403
CLOSE_UNKNOWN = 4404


class RelayingConsumer(ActionConsumer):
    """What both sides share: per-conversation keys and gap-free, in-order relay."""

    async def connect(self):
        self.keys = {}
        self.sent_seq = {}
        self.conversations = {}
        await self.accept()

    async def follow(self, conversation):
        """Join the conversation's group and send what this socket has not seen."""
        conversation_id = conversation.public_id.hex
        self.conversations[conversation_id] = conversation
        if conversation_id not in self.keys:
            self.keys[conversation_id] = await db(services.conversation_key)(conversation)
        await self.channel_layer.group_add(
            services.conversation_group(conversation), self.channel_name
        )
        await self.send_missing(conversation_id, after=self.sent_seq.get(conversation_id, 0))

    async def unfollow(self, conversation_id):
        conversation = self.conversations.pop(conversation_id, None)
        self.keys.pop(conversation_id, None)
        self.sent_seq.pop(conversation_id, None)
        if conversation is not None:
            await self.channel_layer.group_discard(
                services.conversation_group(conversation), self.channel_name
            )

    async def send_missing(self, conversation_id, after):
        conversation = self.conversations[conversation_id]
        frames = await db(selectors.message_list_after)(
            conversation=conversation, key=self.keys[conversation_id], after_seq=after
        )
        for frame in frames:
            await self.send_message_frame(frame)

    async def send_message_frame(self, frame):
        conversation_id = frame["conversation"]
        if frame["seq"] <= self.sent_seq.get(conversation_id, 0):
            return
        self.sent_seq[conversation_id] = frame["seq"]
        await self.send_json(frame)

    async def conversation_message(self, event):
        conversation_id = event["conversation"]
        if conversation_id not in self.keys:
            return
        if event["seq"] > self.sent_seq.get(conversation_id, 0) + 1:
            # An event was dropped on the way: the database has it.
            await self.send_missing(conversation_id, after=self.sent_seq.get(conversation_id, 0))
            return
        await self.send_message_frame(
            selectors.message_frame_from_event(event=event, key=self.keys[conversation_id])
        )

    async def act_resume(self, frame):
        conversation_id = frame.conversation.hex if frame.conversation else None
        conversation_id = conversation_id or next(iter(self.conversations), None)
        if conversation_id not in self.conversations:
            raise ChatError("unknown")
        self.sent_seq[conversation_id] = min(frame.last_seq, self.sent_seq.get(conversation_id, 0))
        await self.send_missing(conversation_id, after=self.sent_seq[conversation_id])


class SurvivorChatConsumer(RelayingConsumer):
    """The survivor's socket: anonymous, one conversation, resumable by its token."""

    actions = {
        frames.ChatStart: "act_start",
        frames.ChatResumeByToken: "act_resume_by_token",
        frames.Message: "act_message",
        frames.End: "act_end",
        frames.Ping: "act_ping",
        frames.InterpreterAnswer: "act_interpreter_answer",
        frames.CodeWord: "act_code_word",
    }

    conversation = None

    async def __call__(self, scope, receive, send):
        """Run as Channels' consumers do, but take a channel-layer channel only for a chat.

        Most open survivor pages are not in a chat (yet): such a socket then holds
        no channel, no message buffer and no task of its own waiting on Redis or
        on the socket; only its frames are awaited, one at a time.
        """
        self.scope = scope
        self.base_send = send
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = None
        with contextlib.suppress(StopConsumer):
            while self.channel_name is None:
                await self.dispatch(await receive())
            await await_many_dispatch([receive, self.receive_event], self.dispatch)

    async def receive_event(self):
        return await self.channel_layer.receive(self.channel_name)

    async def connect(self):
        self.organization = self.scope["organization"]
        self.state_refresh = CoalescedRefresh()
        await super().connect()

    async def receive_frame(self, frame):
        if self.conversation is None and not isinstance(
            frame, frames.ChatStart | frames.ChatResume | frames.Ping
        ):
            await self.send_action_error(ChatError("not_started"))
            return
        await super().receive_frame(frame)

    async def act_start(self, frame):
        if self.conversation is not None:
            raise ChatError("malformed")
        self.language = "fr" if frame.language.startswith("fr") else "en"
        conversation, token = await db(services.conversation_start)(
            organization=self.organization,
            ticket=frame.ticket,
            safety=frame.safety,
            language=self.language,
            browser_token=browser.scope_token(self.scope),
            client_bucket=self.scope.get("client_bucket", ""),
        )
        await self.send_json({"type": "started", "token": token})
        await self.attach(conversation)

    async def act_resume_by_token(self, frame):
        if self.conversation is not None:
            await self.act_resume(frame)
            return
        self.sent_seq = {}
        try:
            conversation = await db(services.conversation_by_token)(
                organization=self.organization, token=frame.token
            )
        except ActionError as error:
            await self.send_action_error(error)
            await self.close(code=CLOSE_UNKNOWN)
            return
        self.language = conversation.language
        self.sent_seq[conversation.public_id.hex] = frame.last_seq
        await self.attach(conversation)

    async def attach(self, conversation):
        self.conversation = conversation
        if self.channel_name is None:
            self.channel_name = await self.channel_layer.new_channel()
        await db(services.survivor_presence_set)(conversation=conversation, connected=True)
        await self.send_state()
        await self.follow(conversation)

    async def send_state(self):
        """Tell her where her chat stands, when that changed since she was last told."""
        if self.conversation is None:
            return
        conversation = await db(selectors.conversation_refresh)(conversation=self.conversation)
        if conversation.state == Conversation.State.WAITING:
            await self.channel_layer.group_add(
                services.queue_group(self.organization), self.channel_name
            )
            position = await db(selectors.queue_position)(conversation=conversation)
            frame = {
                "type": "waiting",
                "position": position,
                "unanswered_in": selectors.unanswered_in_seconds(
                    conversation=conversation, organization=self.organization
                ),
            }
        elif conversation.state == Conversation.State.ACTIVE:
            await self.channel_layer.group_discard(
                services.queue_group(self.organization), self.channel_name
            )
            frame = {"type": "active"}
        else:
            return
        state = (frame["type"], frame.get("position"))
        if state != getattr(self, "state_sent", None):
            self.state_sent = state
            await self.send_json(frame)
            if conversation.silence_warned_at:
                await self.send_silence_warning(
                    selectors.silence_minutes_left(
                        organization=self.organization, conversation=conversation
                    )
                )

    async def act_message(self, frame):
        seq, _created = await db(services.message_post)(
            conversation=self.conversation,
            sender=Message.Sender.SURVIVOR,
            client_id=frame.client_id,
            text=frame.text,
            key=self.keys.get(self.conversation.public_id.hex),
        )
        await self.send_json({"type": "ack", "client_id": frame.client_id, "seq": seq})

    async def act_end(self, frame):
        await db(services.conversation_end)(
            conversation=self.conversation, outcome=Conversation.Outcome.SURVIVOR_ENDED
        )

    async def act_interpreter_answer(self, frame):
        await db(handovers.interpreter_answer)(conversation=self.conversation, agree=frame.agree)

    async def act_code_word(self, frame):
        """Take a word typed into a private prompt; it goes nowhere but to its check."""
        if frame.purpose == "verify":
            await db(casework.code_word_answer)(conversation=self.conversation, word=frame.word)
        elif frame.purpose == "set":
            await db(casework.code_word_set)(
                conversation=self.conversation, word=frame.word, current=frame.current
            )
        else:
            await db(casework.case_safe_word_set)(conversation=self.conversation, word=frame.word)
        await self.send_json({"type": "code_word_done", "purpose": frame.purpose})

    async def conversation_transferred(self, event):
        await self.state_refresh.now(self.send_state)

    async def conversation_interpreter(self, event):
        if event["state"] == "requested":
            await self.send_json({"type": "interpreter_consent", "language": event["language"]})

    async def conversation_casework(self, event):
        """Open her private prompt when asked; alerts about her are never shown to her."""
        if event["event"] == "case_linked":
            await self.send_json({"type": "case", "code_word": event["code_word"] == "known"})
            if event["code_word"] == "choose":
                await self.send_json({"type": "code_word_prompt", "purpose": "set"})
        elif event["event"] == "code_word_prompt":
            await self.send_json({"type": "code_word_prompt", "purpose": "verify"})

    async def disconnect(self, code):
        self.state_refresh.cancel()
        if self.conversation is not None:
            with contextlib.suppress(Conversation.DoesNotExist):
                await db(services.survivor_presence_set)(
                    conversation=self.conversation, connected=False
                )
        if self.channel_name is None:
            return
        await self.channel_layer.group_discard(
            services.queue_group(self.organization), self.channel_name
        )
        for conversation_id in list(self.conversations):
            await self.unfollow(conversation_id)

    async def queue_changed(self, event):
        self.state_refresh.request(self.send_state)

    async def conversation_accepted(self, event):
        await self.state_refresh.now(self.send_state)

    async def conversation_presence(self, event):
        pass

    async def conversation_silence(self, event):
        await self.send_silence_warning(event["closes_in_minutes"])

    async def send_silence_warning(self, closes_in_minutes):
        await self.send_json({"type": "silence_warning", "closes_in_minutes": closes_in_minutes})

    async def conversation_ended(self, event):
        await self.send_json({"type": "ended", "reason": event["outcome"]})
        self.conversation = None
        self.state_refresh.cancel()
        await self.close()


class StaffChatConsumer(RelayingConsumer):
    """A staff member's chat console socket.

    Support workers and supervisors see the queue and hold conversations;
    supervisors also see every live chat's state and escalations, and may
    observe or take over; interpreters see requests for an interpreter and only
    the conversation they are in, while they are in it.
    """

    actions = {
        frames.Accept: "act_accept",
        frames.StaffMessage: "act_message",
        frames.Canned: "act_canned",
        frames.StaffEnd: "act_end",
        frames.Block: "act_block",
        frames.ChatResume: "act_resume",
        frames.Ping: "act_ping",
        frames.Transfer: "act_transfer",
        frames.Escalate: "act_escalate",
        frames.Observe: "act_observe",
        frames.TakeOver: "act_take_over",
        frames.InterpreterRequest: "act_interpreter_request",
        frames.Interpret: "act_interpret",
        frames.InterpreterLeave: "act_interpreter_leave",
        frames.CaseOpen: "act_case_open",
        frames.CaseLink: "act_case_link",
        frames.Verify: "act_verify",
    }

    async def connect(self):
        self.organization = self.scope["organization"]
        self.user = self.scope["user"]
        if not self.user.is_authenticated or not self.user.is_verified():
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        membership = await db(membership_get)(organization=self.organization, user=self.user)
        if membership is None or not membership.has_role(
            Role.SUPPORT_WORKER, Role.SUPERVISOR, Role.INTERPRETER
        ):
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        self.roles = set(membership.roles)
        # Conversation -> who she speaks as in it; observers do not speak.
        self.speaks_as = {}
        self.queue_refresh = CoalescedRefresh()
        self.observing = set()
        self.safe_digests = {}
        await super().connect()
        from accounts.consumers import staff_group

        self.groups_joined = [
            staff_group(self.organization.pk, self.user.pk),
            f"staffchat.{self.organization.pk}.{self.user.pk}",
        ]
        if self.roles & {Role.SUPPORT_WORKER, Role.SUPERVISOR}:
            self.groups_joined.append(services.queue_group(self.organization))
        if Role.SUPERVISOR in self.roles:
            self.groups_joined.append(services.supervisors_group(self.organization))
        if Role.INTERPRETER in self.roles:
            self.groups_joined.append(services.interpreters_group(self.organization))
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        if self.roles & {Role.SUPPORT_WORKER, Role.SUPERVISOR}:
            await self.send_queue()
            for conversation in await db(selectors.conversation_list_of_worker)(
                organization=self.organization, worker=self.user
            ):
                await self.send_conversation_opened(conversation)
            self.sweeper = asyncio.create_task(self.sweep_periodically())
        if Role.SUPERVISOR in self.roles:
            await self.overview_changed({})
        if Role.INTERPRETER in self.roles:
            await self.interpreter_needed({})

    async def disconnect(self, code):
        sweeper = getattr(self, "sweeper", None)
        if sweeper is not None:
            sweeper.cancel()
        queue_refresh = getattr(self, "queue_refresh", None)
        if queue_refresh is not None:
            queue_refresh.cancel()
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        for conversation_id in list(getattr(self, "conversations", {})):
            await self.unfollow(conversation_id)

    async def sweep_periodically(self):
        while True:
            await asyncio.sleep(settings.CHAT_SWEEP_SECONDS)
            await db(services.conversation_sweep_if_due)(organization=self.organization)

    async def send_queue(self):
        reason = await db(services.may_take_new_chats)(
            organization=self.organization, worker=self.user
        )
        waiting = [] if reason else await db(selectors.queue_list)(organization=self.organization)
        await self.send_json({"type": "queue", "conversations": waiting, "offers": reason or "on"})
        colleagues = await db(handovers.colleagues_on_shift)(
            organization=self.organization, exclude=self.user
        )
        await self.send_json({"type": "colleagues", "workers": colleagues})

    async def follow(self, conversation):
        conversation_id = conversation.public_id.hex
        self.safe_digests[conversation_id] = await db(casework.safe_word_digests)(
            conversation=conversation
        )
        await super().follow(conversation)

    async def unfollow(self, conversation_id):
        self.speaks_as.pop(conversation_id, None)
        self.safe_digests.pop(conversation_id, None)
        await super().unfollow(conversation_id)

    async def send_message_frame(self, frame):
        """Relay a message; a survivor's safe word reaches staff as the alert, not as text."""
        digests = self.safe_digests.get(frame["conversation"])
        if frame["from"] == Message.Sender.SURVIVOR and digests:
            frame = {**frame, "text": casework.safe_word_masked(frame["text"], digests)}
        await super().send_message_frame(frame)

    async def send_conversation_opened(self, conversation, role="worker"):
        self.speaks_as[conversation.public_id.hex] = {
            "worker": Message.Sender.WORKER,
            "interpreter": Message.Sender.INTERPRETER,
        }.get(role)
        await self.send_json(
            {
                "type": "conversation",
                "conversation": conversation.public_id.hex,
                "role": role,
                "safety": conversation.safety,
                "language": conversation.language,
                "connected": conversation.survivor_sockets > 0,
            }
        )
        await self.follow(conversation)

    async def own_conversation(self, frame):
        conversation = await db(selectors.access_conversation_of_worker)(
            organization=self.organization, worker=self.user, public_id=frame.conversation
        )
        if conversation is None:
            raise ChatError("not_yours")
        return conversation

    async def act_accept(self, frame):
        conversation_id = frame.conversation
        try:
            conversation = await db(services.conversation_accept)(
                organization=self.organization, worker=self.user, public_id=conversation_id
            )
        except ChatError as error:
            await self.send_action_error(error, conversation=conversation_id.hex)
            return
        await self.send_conversation_opened(conversation)

    async def act_message(self, frame):
        conversation_id = frame.conversation.hex
        sender = self.speaks_as.get(conversation_id)
        if sender is None:
            raise ChatError("not_yours")
        conversation = self.conversations[conversation_id]
        # message_post checks, under the conversation's lock, that she still holds it.
        seq, _created = await db(services.message_post)(
            conversation=conversation,
            sender=sender,
            client_id=frame.client_id,
            text=frame.text,
            worker=self.user,
            key=self.keys.get(conversation.public_id.hex),
        )
        await self.send_json(
            {
                "type": "ack",
                "conversation": conversation.public_id.hex,
                "client_id": frame.client_id,
                "seq": seq,
            }
        )

    async def act_canned(self, frame):
        conversation = await self.own_conversation(frame)
        seq, _created = await db(services.canned_message_post)(
            conversation=conversation,
            worker=self.user,
            canned_id=frame.canned,
            client_id=frame.client_id,
        )
        await self.send_json(
            {
                "type": "ack",
                "conversation": conversation.public_id.hex,
                "client_id": frame.client_id,
                "seq": seq,
            }
        )

    async def act_end(self, frame):
        conversation = await self.own_conversation(frame)
        await db(services.conversation_end)(
            conversation=conversation,
            outcome=Conversation.Outcome.WORKER_ENDED,
            actor=self.user,
            debrief=frame.debrief,
        )

    async def act_block(self, frame):
        conversation = await self.own_conversation(frame)
        await db(services.visitor_block_and_end)(
            conversation=conversation, worker=self.user, hours=frame.hours
        )

    async def act_transfer(self, frame):
        await db(handovers.conversation_transfer)(
            organization=self.organization,
            actor=self.user,
            public_id=frame.conversation,
            to_user_id=frame.to,
        )

    async def act_escalate(self, frame):
        await db(handovers.conversation_escalate)(
            organization=self.organization, actor=self.user, public_id=frame.conversation
        )
        await self.send_json({"type": "escalated", "conversation": frame.conversation.hex})

    async def act_observe(self, frame):
        conversation = await db(handovers.conversation_observe)(
            organization=self.organization,
            supervisor=self.user,
            public_id=frame.conversation,
        )
        self.observing.add(conversation.public_id.hex)
        await self.send_conversation_opened(conversation, role="observer")

    async def act_take_over(self, frame):
        conversation = await db(handovers.conversation_take_over)(
            organization=self.organization,
            supervisor=self.user,
            public_id=frame.conversation,
        )
        self.observing.discard(conversation.public_id.hex)
        await self.send_conversation_opened(conversation)

    async def act_interpreter_request(self, frame):
        await db(handovers.interpreter_request)(
            organization=self.organization,
            actor=self.user,
            public_id=frame.conversation,
            language=frame.language,
        )

    async def act_interpret(self, frame):
        conversation = await db(handovers.interpreter_join)(
            organization=self.organization,
            interpreter=self.user,
            public_id=frame.conversation,
        )
        # She sees the chat from her arrival on, not what was said before.
        self.sent_seq[conversation.public_id.hex] = conversation.next_seq - 1
        await self.send_conversation_opened(conversation, role="interpreter")

    async def act_interpreter_leave(self, frame):
        await db(handovers.interpreter_leave)(
            organization=self.organization, actor=self.user, public_id=frame.conversation
        )

    async def act_case_open(self, frame):
        await db(casework.case_open)(
            organization=self.organization, actor=self.user, public_id=frame.conversation
        )

    async def act_case_link(self, frame):
        await db(casework.case_link)(
            organization=self.organization,
            actor=self.user,
            public_id=frame.conversation,
            reference=frame.reference,
        )

    async def act_verify(self, frame):
        await db(casework.verification_request)(
            organization=self.organization, actor=self.user, public_id=frame.conversation
        )

    # Events.

    async def queue_changed(self, event):
        self.queue_refresh.request(self.send_queue)

    async def overview_changed(self, event):
        overview = await db(handovers.overview_list)(organization=self.organization)
        await self.send_json({"type": "overview", "conversations": overview})

    async def interpreter_needed(self, event):
        requests = await db(handovers.interpreter_requests)(organization=self.organization)
        await self.send_json({"type": "interpreter_requests", "conversations": requests})

    async def conversation_escalated(self, event):
        await self.send_json({"type": "escalation", "conversation": event["conversation"]})

    async def conversation_assigned(self, event):
        conversation = await db(selectors.access_conversation_of_worker)(
            organization=self.organization, worker=self.user, public_id=event["conversation"]
        )
        if conversation is not None:
            self.observing.discard(event["conversation"])
            await self.send_conversation_opened(conversation)

    async def conversation_transferred(self, event):
        conversation_id = event["conversation"]
        if (
            event["worker"] != self.user.pk
            and conversation_id not in self.observing
            and (conversation_id in self.conversations)
        ):
            is_interpreter = await db(selectors.access_conversation_of_interpreter)(
                organization=self.organization,
                interpreter=self.user,
                public_id=conversation_id,
            )
            if is_interpreter is None:
                await self.unfollow(conversation_id)
                await self.send_json({"type": "transferred", "conversation": conversation_id})

    async def conversation_accepted(self, event):
        pass

    async def conversation_interpreter(self, event):
        await self.send_json(
            {
                "type": "interpreter",
                "conversation": event["conversation"],
                "state": event["state"],
                "language": event["language"],
            }
        )
        if event["state"] != "joined":
            still_mine = await db(selectors.access_conversation_of_worker)(
                organization=self.organization,
                worker=self.user,
                public_id=event["conversation"],
            )
            if still_mine is None and event["conversation"] not in self.observing:
                await self.unfollow(event["conversation"])

    async def conversation_casework(self, event):
        """Pass on what staff may know: a reference, a result, an alert; never a word."""
        frame = {"conversation": event["conversation"]}
        if event["event"] == "case_linked":
            frame.update(type="case", reference=event["reference"])
        elif event["event"] == "verification":
            frame.update(type="verification", result=event["result"])
        elif event["event"] == "safe_word":
            frame.update(type="safe_word")
        else:
            frame.update(type="case_update", event=event["event"])
        if event["conversation"] in self.conversations and event["event"] in (
            "case_linked",
            "safe_word_set",
        ):
            self.safe_digests[event["conversation"]] = await db(casework.safe_word_digests)(
                conversation=self.conversations[event["conversation"]]
            )
        await self.send_json(frame)

    async def conversation_presence(self, event):
        await self.send_json(
            {
                "type": "presence",
                "conversation": event["conversation"],
                "connected": event["connected"],
            }
        )

    async def conversation_silence(self, event):
        await self.send_json(
            {
                "type": "silence",
                "conversation": event["conversation"],
                "closes_in_minutes": event["closes_in_minutes"],
            }
        )

    async def conversation_ended(self, event):
        await self.send_json(
            {"type": "ended", "conversation": event["conversation"], "outcome": event["outcome"]}
        )
        self.observing.discard(event["conversation"])
        await self.unfollow(event["conversation"])

    async def staff_disconnect(self, event):
        await self.close(code=CLOSE_NOT_ALLOWED)
