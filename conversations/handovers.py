"""Handing a live crisis chat on: transfer, escalation, supervisors, interpreters, debrief.

Every action checks the actor's role in the conversation's organization and
records itself in the audit log (never content). The survivor is told, in
her language, whenever someone new talks with her or an interpreter comes or
goes: the notice is a message of the conversation like any other, so it is
delivered in order and survives a reload.
"""

import uuid

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Membership, ObserverNotice, Role
from accounts.selectors import membership_get
from conversations.models import Conversation, InterpreterState, Message
from conversations.selectors import memberships_free_for_new_chats
from conversations.services import (
    ChatError,
    conversation_group,
    interpreters_group,
    may_take_new_chats,
    message_post,
    queue_group,
    shift_current,
    supervisors_group,
)
from policies.services import audit_record
from shelterchat.events import broadcast_after_commit

CHAT_ROLES = (Role.SUPPORT_WORKER, Role.SUPERVISOR)


def personal_group(organization, user_id):
    from accounts.consumers import staff_group

    return staff_group(organization.pk, user_id)


def _live(organization, public_id, lock=False):
    rows = Conversation.objects.filter(organization=organization, public_id=public_id)
    conversation = (rows.select_for_update() if lock else rows).first()
    if conversation is None or conversation.state == Conversation.State.ENDED:
        raise ChatError("unknown")
    return conversation


def _has_role(organization, user, *roles):
    membership = membership_get(organization=organization, user=user)
    return membership is not None and membership.has_role(*roles)


def notice_post(conversation, text_by_language):
    """Tell the survivor something in her language, as a message of the conversation."""
    with translation.override(conversation.language):
        text = str(text_by_language())
    return message_post(
        conversation=conversation,
        sender=Message.Sender.SYSTEM,
        client_id=f"notice-{uuid.uuid4().hex}",
        text=text,
    )


def _overview_changed(organization):
    broadcast_after_commit(supervisors_group(organization), {"type": "overview.changed"})


def colleagues_on_shift(*, organization, exclude, now=None):
    """Return the staff a chat can be handed to now: on shift, not near its end."""
    return [
        {"id": membership.user_id, "name": membership.user.username}
        for membership in memberships_free_for_new_chats(organization=organization, now=now)
        if membership.user_id != exclude.pk
    ]


def conversation_transfer(*, organization, actor, public_id, to_user_id=None, now=None):
    """Hand the actor's live chat to a colleague on shift, or back to the queue.

    Messages in flight are not lost: what the survivor sends is stored whoever
    holds the chat, and the new holder receives every message so far.
    """
    now = now or timezone.now()
    with transaction.atomic():
        conversation = _live(organization, public_id, lock=True)
        if conversation.state != Conversation.State.ACTIVE or conversation.worker_id != actor.pk:
            raise ChatError("not_yours")
        target = None
        if to_user_id is not None:
            target = (
                Membership.objects.filter(organization=organization, user_id=to_user_id)
                .select_related("user")
                .first()
            )
            if (
                target is None
                or not target.is_active
                or not target.has_role(*CHAT_ROLES)
                or may_take_new_chats(organization=organization, worker=target.user, now=now)
            ):
                raise ChatError("not_available")
        _hand_over(conversation, actor, target.user if target else None, "conversation.transfer")
    return conversation


def _hand_over(conversation, actor, new_worker, action):
    organization = conversation.organization
    conversation.worker = new_worker
    conversation.state = Conversation.State.ACTIVE if new_worker else Conversation.State.WAITING
    conversation.save(update_fields=["worker", "state"])
    audit_record(organization=organization, actor=actor, action=action, target=conversation)
    if new_worker:
        notice_post(conversation, lambda: _("You are now talking with someone new."))
        broadcast_after_commit(
            personal_group(organization, new_worker.pk),
            {"type": "conversation.assigned", "conversation": conversation.public_id.hex},
        )
    else:
        notice_post(conversation, lambda: _("Please wait: someone new will be with you soon."))
        broadcast_after_commit(queue_group(organization), {"type": "queue.changed"})
    broadcast_after_commit(
        conversation_group(conversation),
        {
            "type": "conversation.transferred",
            "conversation": conversation.public_id.hex,
            "worker": new_worker.pk if new_worker else None,
        },
    )
    _overview_changed(organization)


def conversation_escalate(*, organization, actor, public_id, now=None):
    """Send the actor's chat to the supervisors on shift (abuse, or a crisis beyond her)."""
    conversation = _live(organization, public_id)
    if conversation.worker_id != actor.pk:
        raise ChatError("not_yours")
    Conversation.objects.filter(pk=conversation.pk).update(escalated_at=now or timezone.now())
    audit_record(
        organization=organization, actor=actor, action="conversation.escalate", target=conversation
    )
    broadcast_after_commit(
        supervisors_group(organization),
        {"type": "conversation.escalated", "conversation": conversation.public_id.hex},
    )
    _overview_changed(organization)
    return conversation


def _supervisor_on_shift(organization, user):
    if not _has_role(organization, user, Role.SUPERVISOR):
        raise ChatError("not_yours")
    if shift_current(organization=organization, worker=user) is None:
        raise ChatError("not_on_shift")


def conversation_observe(*, organization, supervisor, public_id):
    """Let a supervisor on shift read a live chat without writing in it.

    Her page always says that a supervisor may read along; where the
    organization's policy is to announce it, she is also told each time one does.
    """
    _supervisor_on_shift(organization, supervisor)
    conversation = _live(organization, public_id)
    audit_record(
        organization=organization,
        actor=supervisor,
        action="conversation.observe",
        target=conversation,
    )
    if organization.chat_observer_notice == ObserverNotice.ANNOUNCED:
        notice_post(conversation, lambda: _("A supervisor is reading along to support our worker."))
    return conversation


def conversation_take_over(*, organization, supervisor, public_id):
    """Give the chat to the supervisor: from its worker, or from the queue."""
    _supervisor_on_shift(organization, supervisor)
    with transaction.atomic():
        conversation = _live(organization, public_id, lock=True)
        if conversation.worker_id == supervisor.pk:
            return conversation
        if conversation.state == Conversation.State.WAITING:
            conversation.accepted_at = timezone.now()
            conversation.save(update_fields=["accepted_at"])
        _hand_over(conversation, supervisor, supervisor, "conversation.take_over")
    return conversation


# Interpreters: asked for by the worker, agreed to by the survivor, then joined.


def _interpreter_event(conversation):
    broadcast_after_commit(
        conversation_group(conversation),
        {
            "type": "conversation.interpreter",
            "conversation": conversation.public_id.hex,
            "state": conversation.interpreter_state,
            "language": conversation.interpreter_language,
        },
    )
    _overview_changed(conversation.organization)


def interpreter_request(*, organization, actor, public_id, language):
    """Ask the survivor whether she agrees to an interpreter for ``language``."""
    language = (language or "").strip()
    if not language or len(language) > 40:
        raise ChatError("malformed")
    with transaction.atomic():
        conversation = _live(organization, public_id, lock=True)
        if conversation.worker_id != actor.pk:
            raise ChatError("not_yours")
        if conversation.interpreter_state == InterpreterState.JOINED:
            raise ChatError("interpreter_present")
        conversation.interpreter_state = InterpreterState.REQUESTED
        conversation.interpreter_language = language
        conversation.save(update_fields=["interpreter_state", "interpreter_language"])
        audit_record(
            organization=organization,
            actor=actor,
            action="interpreter.request",
            target=conversation,
        )
        _interpreter_event(conversation)
    return conversation


def interpreter_answer(*, conversation, agree):
    """Record the survivor's answer; if she agrees, interpreters of that language are called."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(
            pk=conversation.pk, organization=conversation.organization_id
        )
        if conversation.interpreter_state != InterpreterState.REQUESTED:
            raise ChatError("malformed")
        conversation.interpreter_state = (
            InterpreterState.CONSENTED if agree else InterpreterState.DECLINED
        )
        conversation.save(update_fields=["interpreter_state"])
        _interpreter_event(conversation)
        if agree:
            broadcast_after_commit(
                interpreters_group(conversation.organization), {"type": "interpreter.needed"}
            )
    return conversation


def interpreter_requests(*, organization):
    """Return the chats waiting for an interpreter: language only, nothing of their content."""
    return [
        {"conversation": conversation.public_id.hex, "language": conversation.interpreter_language}
        for conversation in Conversation.objects.filter(
            organization=organization,
            state=Conversation.State.ACTIVE,
            interpreter_state=InterpreterState.CONSENTED,
        )
    ]


def interpreter_join(*, organization, interpreter, public_id):
    """Bring an interpreter of this organization into a chat whose survivor agreed."""
    if not _has_role(organization, interpreter, Role.INTERPRETER):
        raise ChatError("not_yours")
    with transaction.atomic():
        conversation = _live(organization, public_id, lock=True)
        if conversation.interpreter_state != InterpreterState.CONSENTED:
            raise ChatError("no_consent")
        conversation.interpreter_state = InterpreterState.JOINED
        conversation.interpreter = interpreter
        conversation.save(update_fields=["interpreter_state", "interpreter"])
        audit_record(
            organization=organization,
            actor=interpreter,
            action="interpreter.join",
            target=conversation,
        )
        notice_post(conversation, lambda: _("An interpreter has joined the chat."))
        _interpreter_event(conversation)
        broadcast_after_commit(interpreters_group(organization), {"type": "interpreter.needed"})
    return conversation


def interpreter_leave(*, organization, actor, public_id):
    """End the interpreter's part: she leaves, or the worker lets her go."""
    with transaction.atomic():
        conversation = _live(organization, public_id, lock=True)
        if actor.pk not in (conversation.interpreter_id, conversation.worker_id) or (
            conversation.interpreter_state != InterpreterState.JOINED
        ):
            raise ChatError("not_yours")
        conversation.interpreter_state = InterpreterState.NONE
        conversation.interpreter = None
        conversation.save(update_fields=["interpreter_state", "interpreter"])
        audit_record(
            organization=organization, actor=actor, action="interpreter.leave", target=conversation
        )
        notice_post(conversation, lambda: _("The interpreter has left the chat."))
        _interpreter_event(conversation)
    return conversation


def overview_list(*, organization, now=None):
    """Every live chat's state for supervisors: who holds it and how long, never content."""
    now = now or timezone.now()
    return [
        {
            "conversation": conversation.public_id.hex,
            "state": conversation.state,
            "worker": conversation.worker.username if conversation.worker else None,
            "minutes": int((now - conversation.created_at).total_seconds() // 60),
            "safety": conversation.safety,
            "language": conversation.language,
            "escalated": conversation.escalated_at is not None,
            "interpreter": conversation.interpreter_state,
        }
        for conversation in Conversation.objects.filter(
            organization=organization,
            state__in=[Conversation.State.WAITING, Conversation.State.ACTIVE],
        ).select_related("worker")
    ]


def debrief_list(*, organization):
    """Ended chats whose worker asked for a debrief: when, and who; nothing else."""
    return list(
        Conversation.objects.filter(
            organization=organization, debrief_requested=True, state=Conversation.State.ENDED
        )
        .select_related("worker")
        .order_by("-ended_at")[:50]
    )
