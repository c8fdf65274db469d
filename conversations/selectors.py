"""Reads of crisis chat, each scoped to one organization."""

import base64
import dataclasses
import datetime
import math

from django.db.models import Avg, F
from django.utils import timezone

from accounts.models import Membership, Role
from accounts.selectors import (
    chat_reopens_at,
    closure_on,
    organization_is_open,
)
from accounts.services import token_hash
from conversations.models import (
    CannedMessage,
    Conversation,
    Message,
    OptionalQuestion,
    Shift,
    VisitorBlock,
)
from policies.crypto import decrypt

# The recent chats a rough wait is estimated from.
WAIT_SAMPLE_HOURS = 2


@dataclasses.dataclass(frozen=True)
class ChatAvailability:
    """What is true of the chat right now, as a survivor's page says it."""

    CLOSED = "closed"
    UNSTAFFED = "unstaffed"
    STAFFED = "staffed"

    state: str
    waiting: int = 0
    wait_minutes: int | None = None
    reopens_at: datetime.datetime | None = None
    closure: object = None

    @property
    def is_open(self):
        return self.state != self.CLOSED


def memberships_free_for_new_chats(*, organization, now=None):
    """Return the memberships of the staff who may be offered a new chat now, by name.

    On shift, not in the shift's last ``chat_shift_cutoff_minutes``, and a
    support worker or a supervisor.
    """
    now = now or timezone.now()
    on_shift = Shift.objects.filter(
        organization=organization,
        left_at__isnull=True,
        ends_at__gt=now + datetime.timedelta(minutes=organization.chat_shift_cutoff_minutes),
    ).values("worker_id")
    memberships = (
        Membership.objects.filter(
            organization=organization, is_active=True, user__is_active=True, user__in=on_shift
        )
        .select_related("user")
        .order_by("user__username")
    )
    return [
        membership
        for membership in memberships
        if membership.has_role(Role.SUPPORT_WORKER, Role.SUPERVISOR)
    ]


def recent_wait_minutes(*, organization, now=None):
    """Return the recent average wait before a worker answered, rounded up to 5 minutes, or None."""
    now = now or timezone.now()
    average = Conversation.objects.filter(
        organization=organization,
        accepted_at__gte=now - datetime.timedelta(hours=WAIT_SAMPLE_HOURS),
    ).aggregate(wait=Avg(F("accepted_at") - F("created_at")))["wait"]
    if average is None:
        return None
    return max(5, 5 * math.ceil(average.total_seconds() / 300))


def chat_availability(*, organization, now=None):
    """Say whether chat is closed, open with nobody free to answer, or open and staffed.

    Opening hours alone do not make it staffed: someone must be on shift and
    free to take new chats.
    """
    now = now or timezone.now()
    if not organization_is_open(organization=organization, at=now):
        local_day = timezone.localtime(now, organization.tz).date()
        return ChatAvailability(
            state=ChatAvailability.CLOSED,
            reopens_at=chat_reopens_at(organization=organization, at=now),
            closure=closure_on(organization=organization, day=local_day),
        )
    if not memberships_free_for_new_chats(organization=organization, now=now):
        return ChatAvailability(state=ChatAvailability.UNSTAFFED)
    waiting = Conversation.objects.filter(
        organization=organization, state=Conversation.State.WAITING
    ).count()
    return ChatAvailability(
        state=ChatAvailability.STAFFED,
        waiting=waiting,
        wait_minutes=recent_wait_minutes(organization=organization, now=now) if waiting else None,
    )


def queue_list(*, organization, now=None):
    """Return the waiting conversations, oldest first, as the console shows them."""
    now = now or timezone.now()
    return [
        {
            "conversation": conversation.public_id.hex,
            "waiting_seconds": int((now - conversation.created_at).total_seconds()),
            "safety": conversation.safety,
            "language": conversation.language,
            "connected": conversation.survivor_sockets > 0,
        }
        for conversation in Conversation.objects.filter(
            organization=organization, state=Conversation.State.WAITING
        ).order_by("created_at")
    ]


def queue_position(*, conversation):
    """Return her place in the queue (1 = next), or None once she is not waiting."""
    if conversation.state != Conversation.State.WAITING:
        return None
    return Conversation.objects.filter(
        organization=conversation.organization_id,
        state=Conversation.State.WAITING,
        created_at__lte=conversation.created_at,
    ).count()


def unanswered_in_seconds(*, conversation, organization, now=None):
    """Return the seconds left before a waiting survivor is told no one has answered yet."""
    now = now or timezone.now()
    deadline = conversation.created_at + datetime.timedelta(
        minutes=organization.chat_unanswered_minutes
    )
    return max(0, int((deadline - now).total_seconds()))


def conversation_refresh(*, conversation):
    return Conversation.objects.get(pk=conversation.pk, organization=conversation.organization_id)


def access_conversation_of_worker(*, organization, worker, public_id):
    """Return the worker's live conversation ``public_id``, or None (absent or not hers)."""
    return Conversation.objects.filter(
        organization=organization,
        public_id=public_id,
        worker=worker,
        state=Conversation.State.ACTIVE,
    ).first()


def access_conversation_of_interpreter(*, organization, interpreter, public_id):
    """Return the live conversation the interpreter is in now, or None."""
    return Conversation.objects.filter(
        organization=organization,
        public_id=public_id,
        interpreter=interpreter,
        interpreter_state="joined",
        state=Conversation.State.ACTIVE,
    ).first()


def conversation_list_of_worker(*, organization, worker):
    return list(
        Conversation.objects.filter(
            organization=organization, worker=worker, state=Conversation.State.ACTIVE
        )
    )


def message_associated_data(conversation_id, seq):
    """Bind a message's ciphertext to its conversation and place (see policies.crypto)."""
    return f"message:{conversation_id}:{seq}".encode()


def message_frame(*, conversation_id, seq, sender, text, client_id):
    return {
        "type": "message",
        "conversation": conversation_id,
        "seq": seq,
        "from": sender,
        "text": text,
        "client_id": client_id,
    }


def message_list_after(*, conversation, key, after_seq):
    """Return the decrypted message frames after ``after_seq``, in order."""
    conversation_id = conversation.public_id.hex
    return [
        message_frame(
            conversation_id=conversation_id,
            seq=message.seq,
            sender=message.sender,
            text=decrypt(
                key, message.ciphertext, message_associated_data(conversation_id, message.seq)
            ),
            client_id=message.client_id,
        )
        for message in Message.objects.filter(
            organization=conversation.organization_id,
            conversation=conversation,
            seq__gt=after_seq,
        ).order_by("seq")
    ]


def message_frame_from_event(*, event, key):
    """Decrypt a relayed ``conversation.message`` event into the frame clients receive."""
    associated = message_associated_data(event["conversation"], event["seq"])
    return message_frame(
        conversation_id=event["conversation"],
        seq=event["seq"],
        sender=event["sender"],
        text=decrypt(key, base64.b64decode(event["ciphertext"]), associated),
        client_id=event["client_id"],
    )


def canned_message_list(*, organization):
    return CannedMessage.objects.filter(organization=organization)


def optional_question_list(*, organization):
    return OptionalQuestion.objects.filter(organization=organization, is_active=True)


def optional_question_library(*, organization):
    """Return every question of the organization, asked or not, for its admins."""
    return OptionalQuestion.objects.filter(organization=organization)


def visitor_block_seconds_left(*, organization, browser_token, now=None):
    """Return how many seconds the browser holding ``browser_token`` stays blocked (0: not)."""
    if not browser_token:
        return 0
    now = now or timezone.now()
    blocked_until = (
        VisitorBlock.objects.filter(
            organization=organization,
            token_hash=token_hash(browser_token),
            blocked_until__gt=now,
        )
        .values_list("blocked_until", flat=True)
        .first()
    )
    return int((blocked_until - now).total_seconds()) if blocked_until else 0


def silence_minutes_left(*, organization, conversation, now=None):
    """Return the whole minutes (at least 1) before a warned, silent chat closes."""
    now = now or timezone.now()
    closes_at = conversation.silence_warned_at + datetime.timedelta(
        minutes=organization.chat_silence_close_minutes
    )
    return max(1, math.ceil((closes_at - now).total_seconds() / 60))
