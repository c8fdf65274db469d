"""The actions of crisis chat: start, accept, post, end, and the silence and grace rules.

Delivery does not rest on the channel layer, which delivers at most once:
every message is stored (as ciphertext) with its conversation's next sequence
number before anything is relayed, and clients resume from the last number
they saw. Events go out only after the transaction commits.

Erasure: ``conversation_end`` deletes the conversation's key and messages in
the transaction that marks it ended. Metadata without content remains until
enforce_retention removes it (``conversation_metadata``).
"""

import base64
import datetime
import hashlib
import secrets

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from accounts.selectors import organization_is_open
from conversations.abuse import chat_start_allowed
from conversations.models import (
    CannedMessage,
    Case,
    Conversation,
    ConversationKey,
    Message,
    OptionalQuestion,
    QuestionAnswerCount,
    Shift,
    VisitorBlock,
)
from conversations.selectors import message_associated_data, visitor_block_seconds_left
from policies.crypto import encrypt, key_new, key_unwrap, key_wrap
from policies.models import ConsentDocument
from policies.selectors import consent_document_current
from policies.services import audit_record, consent_record
from shelterchat.consumers import ActionError
from shelterchat.events import broadcast_after_commit

MAX_MESSAGE_CHARS = 2000
ADMISSION_MAX_AGE = 3600


class ChatError(ActionError):
    """An action of crisis chat that cannot happen."""

    MESSAGES = {
        **ActionError.MESSAGES,
        "closed": _("Chat is closed right now."),
        "no_consent": _("Please read and accept the notice first."),
        "busy": _("Too many chats were started from here. Please try again later."),
        "blocked": _("Chat is not available from this browser right now."),
        "unknown": _("This chat could not be found."),
        "ended": _("This chat has ended."),
        "taken": _("Another worker has already accepted this chat."),
        "not_on_shift": _("Go on shift to accept chats."),
        "shift_ending": _("Your shift ends soon: no new chats."),
        "not_yours": _("This chat is not yours."),
        "not_active": _("This chat has not started yet."),
        "not_started": _("Start or resume a chat first."),
        "not_available": _("That colleague cannot take a chat now."),
        "interpreter_present": _("An interpreter is already in this chat."),
        "no_case": _("There is no case with that reference."),
        "not_verified": _("That code word did not match."),
        "empty": _("The message is empty."),
        "too_long": _("The message is too long."),
    }


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def conversation_group(conversation):
    """Return the channel-layer group of a conversation's sockets."""
    return f"conversation.{conversation.public_id.hex}"


def queue_group(organization):
    return f"queue.{organization.pk}"


def supervisors_group(organization):
    """The consoles of the organization's supervisors: escalations and the overview."""
    return f"supervisors.{organization.pk}"


def interpreters_group(organization):
    return f"interpreters.{organization.pk}"


def conversation_key(conversation):
    """Return the conversation's content key; ChatError("ended") once it is destroyed."""
    row = ConversationKey.objects.filter(
        organization_id=conversation.organization_id, conversation=conversation
    ).first()
    if row is None:
        raise ChatError("ended")
    return key_unwrap(row.key_id, row.wrapped)


# Before the chat: the notice, the optional questions, the admission ticket.


def notice_accept(*, organization, document):
    """Record that the current notice was accepted; return the ticket that admits to chat."""
    consent_record(organization=organization, document=document)
    return signing.TimestampSigner(salt="chat-admission").sign(
        f"{organization.pk}:{document.version}"
    )


def _admission_valid(organization, ticket):
    try:
        value = signing.TimestampSigner(salt="chat-admission").unsign(
            ticket or "", max_age=ADMISSION_MAX_AGE
        )
    except signing.BadSignature:
        return False
    organization_id, _, version = value.partition(":")
    notice = consent_document_current(
        organization=organization, kind=ConsentDocument.Kind.CHAT_NOTICE
    )
    return (
        organization_id == str(organization.pk)
        and notice is not None
        and version == str(notice.version)
    )


def question_answers_record(*, organization, answers, now=None):
    """Add one to each given answer's count for this month; skipped questions count nothing."""
    month = timezone.localdate(now or timezone.now(), organization.tz).replace(day=1)
    questions = {
        question.pk: question
        for question in OptionalQuestion.objects.filter(organization=organization, is_active=True)
    }
    for question_id, choice in answers.items():
        question = questions.get(question_id)
        if question is None or not 0 <= choice < len(question.localized("en")[2]):
            continue
        row, _created = QuestionAnswerCount.objects.get_or_create(
            organization=organization, question=question, choice=choice, month=month
        )
        QuestionAnswerCount.objects.filter(pk=row.pk).update(count=F("count") + 1)


# The survivor's side.


@transaction.atomic
def conversation_start(
    *, organization, ticket, safety, language, browser_token="", client_bucket="", now=None
):
    """Open a conversation in the queue; return it and the survivor's resume token.

    The token is shown once; only its hash is kept. ``browser_token`` is the
    token of her browser's cookie (conversations.browser), refused while blocked.
    """
    now = now or timezone.now()
    if not organization_is_open(organization=organization, at=now):
        raise ChatError("closed")
    if not _admission_valid(organization, ticket):
        raise ChatError("no_consent")
    if visitor_block_seconds_left(organization=organization, browser_token=browser_token, now=now):
        raise ChatError("blocked")
    if not chat_start_allowed(organization=organization, client_bucket=client_bucket):
        raise ChatError("busy")
    token = secrets.token_urlsafe(32)
    conversation = Conversation.objects.create(
        organization=organization,
        token_hash=token_hash(token),
        browser_hash=token_hash(browser_token) if browser_token else "",
        safety=safety if safety in Conversation.Safety.values else Conversation.Safety.UNANSWERED,
        language="fr" if (language or "").startswith("fr") else "en",
        survivor_seen_at=now,
    )
    key_id, wrapped = key_wrap(key_new())
    ConversationKey.objects.create(
        organization=organization, conversation=conversation, key_id=key_id, wrapped=wrapped
    )
    broadcast_after_commit(queue_group(organization), {"type": "queue.changed"})
    return conversation, token


def conversation_by_token(*, organization, token):
    """Return the survivor's live conversation for ``token``; ChatError if none."""
    conversation = Conversation.objects.filter(
        organization=organization, token_hash=token_hash(token or "")
    ).first()
    if conversation is None:
        raise ChatError("unknown")
    if conversation.state == Conversation.State.ENDED:
        raise ChatError("ended")
    return conversation


def survivor_presence_set(*, conversation, connected, now=None):
    """Count her sockets; when the last one closes, the grace period starts."""
    now = now or timezone.now()
    rows = Conversation.objects.filter(
        pk=conversation.pk, organization=conversation.organization_id
    )
    if connected:
        rows.update(survivor_sockets=F("survivor_sockets") + 1, survivor_left_at=None)
    else:
        rows.update(survivor_sockets=F("survivor_sockets") - 1)
        rows.filter(survivor_sockets__lte=0).update(survivor_sockets=0, survivor_left_at=now)
    broadcast_after_commit(
        conversation_group(conversation),
        {
            "type": "conversation.presence",
            "conversation": conversation.public_id.hex,
            "connected": connected,
        },
    )


# Messages.


def message_post(*, conversation, sender, client_id, text, worker=None, key=None, now=None):
    """Store a message under the next sequence number and relay it; return (seq, created).

    A message whose ``client_id`` this sender already used is the same message
    sent again after a dropped connection: its first sequence number is
    returned and nothing is stored or relayed twice. ``key`` is the
    conversation's key when the caller holds it already.
    """
    text = (text or "").strip()
    if not text:
        raise ChatError("empty")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ChatError("too_long")
    try:
        return _message_store(
            conversation=conversation,
            sender=sender,
            client_id=client_id,
            text=text,
            worker=worker,
            key=key,
            now=now or timezone.now(),
        )
    except IntegrityError:
        # The same message, resent while its first copy was being stored.
        return _message_seq(conversation, sender, client_id), False


def _message_seq(conversation, sender, client_id):
    return (
        Message.objects.filter(
            organization=conversation.organization_id,
            conversation=conversation,
            sender=sender,
            client_id=client_id,
        )
        .values_list("seq", flat=True)
        .first()
    )


@transaction.atomic
def _message_store(*, conversation, sender, client_id, text, worker, key, now):
    # One statement locks the conversation, takes its next number unless this
    # message is stored already, and reads its state and the safe words that
    # apply to it; a refusal below rolls the number back with the transaction.
    survivor_spoke = sender == Message.Sender.SURVIVOR
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{Conversation._meta.db_table}" AS chat SET next_seq = next_seq + 1, '  # noqa: S608
            "survivor_seen_at = CASE WHEN %s THEN %s ELSE survivor_seen_at END, "
            "silence_warned_at = CASE WHEN %s THEN NULL ELSE silence_warned_at END "
            "WHERE id = %s AND organization_id = %s AND NOT EXISTS ("
            f'SELECT 1 FROM "{Message._meta.db_table}" WHERE organization_id = %s '
            "AND conversation_id = %s AND sender = %s AND client_id = %s) "
            "RETURNING next_seq - 1, state, worker_id, interpreter_id, interpreter_state, "
            f'(SELECT safe_word_digest FROM "{Organization._meta.db_table}" '
            "WHERE id = chat.organization_id), "
            f'(SELECT safe_word_digest FROM "{Case._meta.db_table}" WHERE id = chat.case_id)',
            [
                survivor_spoke,
                now,
                survivor_spoke,
                conversation.pk,
                conversation.organization_id,
                conversation.organization_id,
                conversation.pk,
                sender,
                client_id,
            ],
        )
        row = cursor.fetchone()
        if row is None:
            existing = _message_seq(conversation, sender, client_id)
            if existing is None:
                raise ChatError("ended")
            return existing, False
        seq, state, worker_id, interpreter_id, interpreter_state, *safe_words = row
        if state == Conversation.State.ENDED:
            raise ChatError("ended")
        if sender == Message.Sender.WORKER:
            if state != Conversation.State.ACTIVE:
                raise ChatError("not_active")
            if worker is None or worker_id != worker.pk:
                raise ChatError("not_yours")
        if sender == Message.Sender.INTERPRETER and (
            worker is None or interpreter_id != worker.pk or interpreter_state != "joined"
        ):
            raise ChatError("not_yours")
        conversation_id = conversation.public_id.hex
        ciphertext = encrypt(
            key or conversation_key(conversation),
            text,
            message_associated_data(conversation_id, seq),
        )
        # A plain statement: the ORM's save costs more than the rest of a message together.
        cursor.execute(
            f'INSERT INTO "{Message._meta.db_table}" '  # noqa: S608
            "(organization_id, conversation_id, seq, sender, client_id, ciphertext, created_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [
                conversation.organization_id,
                conversation.pk,
                seq,
                sender,
                client_id,
                ciphertext,
                now,
            ],
        )
    broadcast_after_commit(
        conversation_group(conversation),
        {
            "type": "conversation.message",
            "conversation": conversation_id,
            "seq": seq,
            "sender": sender,
            "client_id": client_id,
            "ciphertext": base64.b64encode(ciphertext).decode(),
        },
    )
    if survivor_spoke:
        from conversations.casework import safe_word_alert

        safe_word_alert(conversation=conversation, text=text, digests=safe_words)
    return seq, True


def canned_message_post(*, conversation, worker, canned_id, client_id):
    """Send the organization's canned message in the conversation's language."""
    canned = CannedMessage.objects.filter(
        organization=conversation.organization_id, pk=canned_id
    ).first()
    if canned is None:
        raise ChatError("unknown")
    return message_post(
        conversation=conversation,
        sender=Message.Sender.WORKER,
        client_id=client_id,
        text=canned.body(conversation.language),
        worker=worker,
    )


# The worker's side.


def shift_start(*, organization, worker, ends_at):
    """Put the worker on shift until ``ends_at`` (ending any shift she was on)."""
    shift_leave(organization=organization, worker=worker)
    shift = Shift.objects.create(organization=organization, worker=worker, ends_at=ends_at)
    audit_record(organization=organization, actor=worker, action="shift.start", target=shift)
    broadcast_after_commit(queue_group(organization), {"type": "queue.changed"})
    return shift


def shift_leave(*, organization, worker, now=None):
    now = now or timezone.now()
    Shift.objects.filter(
        organization=organization, worker=worker, left_at__isnull=True, ends_at__gt=now
    ).update(left_at=now)


def shift_current(*, organization, worker, now=None):
    now = now or timezone.now()
    return (
        Shift.objects.filter(
            organization=organization, worker=worker, left_at__isnull=True, ends_at__gt=now
        )
        .order_by("-ends_at")
        .first()
    )


def may_take_new_chats(*, organization, worker, now=None):
    """Return None when the worker may be offered new chats, else the ChatError code why not."""
    now = now or timezone.now()
    shift = shift_current(organization=organization, worker=worker, now=now)
    if shift is None:
        return "not_on_shift"
    if shift.ends_at - now <= datetime.timedelta(minutes=organization.chat_shift_cutoff_minutes):
        return "shift_ending"
    return None


def conversation_accept(*, organization, worker, public_id, now=None):
    """Give a waiting conversation to the worker; exactly one of several at once wins."""
    now = now or timezone.now()
    reason = may_take_new_chats(organization=organization, worker=worker, now=now)
    if reason:
        raise ChatError(reason)
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update()
            .filter(organization=organization, public_id=public_id)
            .first()
        )
        if conversation is None:
            raise ChatError("unknown")
        if conversation.state != Conversation.State.WAITING:
            raise ChatError("ended" if conversation.state == Conversation.State.ENDED else "taken")
        conversation.state = Conversation.State.ACTIVE
        conversation.worker = worker
        conversation.accepted_at = now
        conversation.save(update_fields=["state", "worker", "accepted_at"])
        audit_record(
            organization=organization,
            actor=worker,
            action="conversation.accept",
            target=conversation,
        )
        broadcast_after_commit(
            conversation_group(conversation),
            {"type": "conversation.accepted", "conversation": conversation.public_id.hex},
        )
        broadcast_after_commit(queue_group(organization), {"type": "queue.changed"})
        broadcast_after_commit(supervisors_group(organization), {"type": "overview.changed"})
        opening = (
            organization.chat_opening_message_fr
            if conversation.language == "fr"
            else organization.chat_opening_message_en
        )
        if opening.strip():
            message_post(
                conversation=conversation,
                sender=Message.Sender.WORKER,
                client_id="opening",
                text=opening,
                worker=worker,
                now=now,
            )
    return conversation


def conversation_end(*, conversation, outcome, actor=None, now=None, debrief=False):
    """End the conversation and erase its content: the key and every message go.

    Returns False when it had already ended.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(
            pk=conversation.pk, organization=conversation.organization_id
        )
        if locked.state == Conversation.State.ENDED:
            return False
        Message.objects.filter(organization=locked.organization_id, conversation=locked).delete()
        ConversationKey.objects.filter(
            organization=locked.organization_id, conversation=locked
        ).delete()
        was_waiting = locked.state == Conversation.State.WAITING
        locked.state = Conversation.State.ENDED
        locked.outcome = outcome
        locked.ended_at = now
        locked.debrief_requested = debrief
        locked.browser_hash = ""
        locked.save(
            update_fields=["state", "outcome", "ended_at", "debrief_requested", "browser_hash"]
        )
        if actor is not None:
            audit_record(
                organization=locked.organization,
                actor=actor,
                action="conversation.end",
                target=locked,
            )
        broadcast_after_commit(
            conversation_group(locked),
            {
                "type": "conversation.ended",
                "conversation": locked.public_id.hex,
                "outcome": outcome,
            },
        )
        if was_waiting:
            broadcast_after_commit(queue_group(locked.organization), {"type": "queue.changed"})
        broadcast_after_commit(supervisors_group(locked.organization), {"type": "overview.changed"})
    return True


def visitor_block_and_end(*, conversation, worker, hours):
    """Block this visitor's browser for ``hours`` and end the chat.

    The block is the hash of the random token in her browser's cookie
    (conversations.browser); it identifies nothing but that cookie. A browser
    that sent no cookie cannot be blocked: the chat still ends.
    """
    if conversation.worker_id != worker.pk:
        raise ChatError("not_yours")
    browser_hash = (
        Conversation.objects.filter(pk=conversation.pk, organization=conversation.organization_id)
        .values_list("browser_hash", flat=True)
        .first()
    )
    if browser_hash:
        VisitorBlock.objects.update_or_create(
            token_hash=browser_hash,
            defaults={
                "organization_id": conversation.organization_id,
                "blocked_until": timezone.now() + datetime.timedelta(hours=hours),
            },
        )
    audit_record(
        organization=conversation.organization,
        actor=worker,
        action="conversation.block",
        target=conversation,
    )
    conversation_end(
        conversation=conversation,
        outcome=Conversation.Outcome.BLOCKED,
        actor=worker,
    )


# Time-based rules, run often by the staff consumers. Several may run at once:
# ending is idempotent and the warning is a conditional update, so each
# conversation is handled once.


def conversation_sweep_if_due(*, organization):
    """Sweep the organization's chats, and return what was done, unless a console did in this
    interval (None).

    Every console on shift asks every CHAT_SWEEP_SECONDS; a claim in the cache
    (one for every process when it is Redis) lets one of them sweep, instead of
    all of them at once.
    """
    claim = f"chat-sweep:{organization.pk}"
    if not cache.add(claim, True, timeout=max(1, settings.CHAT_SWEEP_SECONDS - 1)):
        return None
    return conversation_sweep(organization=organization)


def conversation_sweep(*, organization, now=None):
    """Apply the silence rule and the reconnection grace period; return what was done."""
    now = now or timezone.now()
    warn_after = datetime.timedelta(minutes=organization.chat_silence_warning_minutes)
    close_after = datetime.timedelta(minutes=organization.chat_silence_close_minutes)
    grace = datetime.timedelta(seconds=organization.chat_grace_seconds)
    done = []
    live = Conversation.objects.filter(
        organization=organization,
        state__in=[Conversation.State.WAITING, Conversation.State.ACTIVE],
    )
    for conversation in live:
        left_at = conversation.survivor_left_at
        if conversation.survivor_sockets <= 0 and left_at and left_at + grace <= now:
            if conversation_end(
                conversation=conversation, outcome=Conversation.Outcome.ABANDONED, now=now
            ):
                done.append((conversation.public_id.hex, "abandoned"))
        elif conversation.state != Conversation.State.ACTIVE:
            continue
        elif conversation.silence_warned_at and conversation.silence_warned_at + close_after <= now:
            if conversation_end(
                conversation=conversation, outcome=Conversation.Outcome.SILENCE, now=now
            ):
                done.append((conversation.public_id.hex, "silence_closed"))
        elif (
            not conversation.silence_warned_at and conversation.survivor_seen_at + warn_after <= now
        ):
            updated = Conversation.objects.filter(
                pk=conversation.pk,
                silence_warned_at__isnull=True,
                survivor_seen_at=conversation.survivor_seen_at,
            ).update(silence_warned_at=now)
            if updated:
                broadcast_after_commit(
                    conversation_group(conversation),
                    {
                        "type": "conversation.silence",
                        "conversation": conversation.public_id.hex,
                        "closes_in_minutes": organization.chat_silence_close_minutes,
                    },
                )
                done.append((conversation.public_id.hex, "silence_warned"))
    return done
