"""Ongoing survivors: pseudonymous cases, code words and safe words.

A code word proves to the worker that she is talking with the same person as
before; the worker only ever learns "verified" or "not verified". A safe word
tells the worker, discreetly, that the survivor is not safe to talk; her own
screen shows nothing unusual. Neither is kept in clear, sent to staff or
logged: the code word as an Argon2 hash (slow, for guessing), the safe word as
a keyed digest (fast, so every message can be checked).
"""

import datetime
import secrets
import unicodedata

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from conversations.handovers import _live
from conversations.models import Case, Conversation
from conversations.services import ChatError, conversation_group
from policies.crypto import keyed_digest
from policies.services import audit_record
from shelterchat.events import broadcast_after_commit

MAX_FAILED_ATTEMPTS = 3
LOCK_MINUTES = 30
MAX_WORDS = 3
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def _normalized(text):
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def safe_word_digest(word):
    """Return the keyed digest a safe word is kept as."""
    return keyed_digest("safe-word", _normalized(word))


def _word_ok(word):
    return isinstance(word, str) and 0 < len(_normalized(word)) <= 100


def _safe_word_spans(text, digests):
    """Yield (first, last) word indexes of runs of up to three words that are safe words."""
    digests = {digest for digest in digests if digest}
    if not digests:
        return
    words = [word.strip(".,!?;:\"'()«»¿¡") for word in _normalized(text).split()]
    for size in range(1, MAX_WORDS + 1):
        for start in range(len(words) - size + 1):
            if safe_word_digest(" ".join(words[start : start + size])) in digests:
                yield start, start + size - 1


def contains_safe_word(text, digests):
    """Return True when ``text`` holds a word (or run of up to three words) of ``digests``."""
    return next(_safe_word_spans(text, digests), None) is not None


def safe_word_masked(text, digests):
    """Return ``text`` with its safe words replaced, for staff: they get the alert instead."""
    hidden = {
        index for first, last in _safe_word_spans(text, digests) for index in range(first, last + 1)
    }
    if not hidden:
        return text
    words = unicodedata.normalize("NFKC", text).split()
    return " ".join("•••" if index in hidden else word for index, word in enumerate(words))


def safe_word_digests(*, conversation):
    """Return the digests of the safe words that apply to a conversation: its organization's
    and its case's."""
    row = (
        Conversation.objects.filter(organization=conversation.organization_id, pk=conversation.pk)
        .values_list("organization__safe_word_digest", "case__safe_word_digest")
        .first()
    )
    return [digest for digest in row or () if digest]


def _event(conversation, **fields):
    broadcast_after_commit(
        conversation_group(conversation),
        {"type": "conversation.casework", "conversation": conversation.public_id.hex, **fields},
    )


def case_open(*, organization, actor, public_id):
    """Open a new case for the actor's chat and ask the survivor to choose a code word."""
    conversation = _live(organization, public_id)
    if conversation.worker_id != actor.pk:
        raise ChatError("not_yours")
    while True:
        reference = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
        if not Case.objects.filter(organization=organization, reference=reference).exists():
            break
    case = Case.objects.create(organization=organization, reference=reference)
    Conversation.objects.filter(pk=conversation.pk).update(case=case)
    audit_record(organization=organization, actor=actor, action="case.open", target=case)
    _event(conversation, event="case_linked", reference=case.reference, code_word="choose")
    return case


def case_link(*, organization, actor, public_id, reference):
    """Link the actor's chat to an existing case by its reference."""
    conversation = _live(organization, public_id)
    if conversation.worker_id != actor.pk:
        raise ChatError("not_yours")
    case = Case.objects.filter(
        organization=organization, reference=str(reference).strip().upper()
    ).first()
    if case is None:
        raise ChatError("no_case")
    Conversation.objects.filter(pk=conversation.pk).update(case=case)
    Case.objects.filter(pk=case.pk).update(last_used_at=timezone.now())
    audit_record(organization=organization, actor=actor, action="case.link", target=case)
    _event(conversation, event="case_linked", reference=case.reference, code_word="known")
    return case


def _case_of(conversation):
    conversation = Conversation.objects.select_related("case").get(
        pk=conversation.pk, organization=conversation.organization_id
    )
    if conversation.case is None:
        raise ChatError("no_case")
    return conversation.case


def verification_request(*, organization, actor, public_id, now=None):
    """Ask the survivor for her code word, in a private prompt."""
    conversation = _live(organization, public_id)
    if conversation.worker_id != actor.pk:
        raise ChatError("not_yours")
    case = _case_of(conversation)
    audit_record(organization=organization, actor=actor, action="case.verify_request", target=case)
    if case.locked_until and case.locked_until > (now or timezone.now()):
        _event(conversation, event="verification", result="locked")
        return
    _event(conversation, event="code_word_prompt")


def code_word_answer(*, conversation, word, now=None):
    """Check the survivor's answer; the worker learns only the result.

    After MAX_FAILED_ATTEMPTS wrong answers in a row the case cannot be
    verified for LOCK_MINUTES, and the worker is told.
    """
    now = now or timezone.now()
    if not _word_ok(word):
        raise ChatError("malformed")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=_case_of(conversation).pk)
        if not case.code_word_hash:
            raise ChatError("no_case")
        if case.locked_until and case.locked_until > now:
            result = "locked"
        elif check_password(_normalized(word), case.code_word_hash):
            case.failed_attempts = 0
            case.last_used_at = now
            result = "verified"
        else:
            case.failed_attempts += 1
            result = "not_verified"
            if case.failed_attempts >= MAX_FAILED_ATTEMPTS:
                case.locked_until = now + datetime.timedelta(minutes=LOCK_MINUTES)
                case.failed_attempts = 0
                result = "locked"
        case.save(update_fields=["failed_attempts", "locked_until", "last_used_at"])
        _event(conversation, event="verification", result=result)
    return result


def code_word_set(*, conversation, word, current=None):
    """Set the case's code word: freely when it has none, else only with the current one."""
    if not _word_ok(word):
        raise ChatError("malformed")
    case = _case_of(conversation)
    if (
        case.code_word_hash
        and code_word_answer(conversation=conversation, word=current or "") != "verified"
    ):
        raise ChatError("not_verified")
    Case.objects.filter(pk=case.pk).update(code_word_hash=make_password(_normalized(word)))
    _event(conversation, event="code_word_set")


def case_safe_word_set(*, conversation, word):
    """Set the case's own safe word, chosen by the survivor in a private prompt."""
    if not _word_ok(word):
        raise ChatError("malformed")
    case = _case_of(conversation)
    Case.objects.filter(pk=case.pk).update(safe_word_digest=safe_word_digest(word))
    _event(conversation, event="safe_word_set")


def safe_word_alert(*, conversation, text, digests):
    """Alert the worker if the survivor's message holds one of the conversation's safe words
    (``digests``: its organization's and its case's)."""
    if contains_safe_word(text, digests):
        _event(conversation, event="safe_word")
