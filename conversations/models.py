"""Crisis chat: conversations, their messages (as ciphertext only), shifts and the library.

A conversation's content lives as AES-GCM ciphertext under the
conversation's own key (``ConversationKey``, itself wrapped by the platform's
key-encryption key). Ending a conversation deletes the key and the messages;
what remains is metadata without content, purged after the organization's
``conversation_metadata`` window.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel


class InterpreterState(models.TextChoices):
    NONE = "none", _("No interpreter")
    REQUESTED = "requested", _("Asked the survivor")
    CONSENTED = "consented", _("Survivor agreed; waiting for an interpreter")
    DECLINED = "declined", _("Survivor declined")
    JOINED = "joined", _("Interpreter in the chat")


class Conversation(TenantModel):
    """One crisis chat between an anonymous survivor and a support worker.

    Metadata only (times, state, outcome, worker). Deleted by enforce_retention
    after the organization's ``conversation_metadata`` window.
    """

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")

    class Outcome(models.TextChoices):
        SURVIVOR_ENDED = "survivor_ended", _("Ended by the survivor")
        WORKER_ENDED = "worker_ended", _("Ended by the worker")
        SILENCE = "silence", _("Closed after silence")
        ABANDONED = "abandoned", _("Connection lost")
        BLOCKED = "blocked", _("Visitor blocked")

    class Safety(models.TextChoices):
        WORRIED = "worried", _("Worried someone can see this device")
        NOT_WORRIED = "not_worried", _("Not worried")
        UNANSWERED = "unanswered", _("Did not answer")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # SHA-256 of the survivor's resume token; the token lives only in her tab.
    token_hash = models.CharField(max_length=64, unique=True)
    browser_hash = models.CharField(
        max_length=64,
        blank=True,
        help_text=_(
            "SHA-256 of the token in her browser's cookie, for a block; erased when the chat ends."
        ),
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.WAITING)
    outcome = models.CharField(max_length=32, choices=Outcome.choices, blank=True)
    language = models.CharField(max_length=8, default="en")
    safety = models.CharField(max_length=16, choices=Safety.choices, default=Safety.UNANSWERED)
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # The next sequence number to give a message; every message's place is fixed here.
    next_seq = models.PositiveIntegerField(default=1)
    survivor_seen_at = models.DateTimeField(
        help_text=_("Her last message, or the start: the silence rule counts from here.")
    )
    silence_warned_at = models.DateTimeField(null=True, blank=True)
    # Her open sockets: a reload opens the new one before the old one closes.
    survivor_sockets = models.IntegerField(default=0)
    survivor_left_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When her last socket closed: the grace period starts.")
    )
    case = models.ForeignKey(
        "Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalated_at = models.DateTimeField(null=True, blank=True)
    debrief_requested = models.BooleanField(default=False)
    interpreter_state = models.CharField(
        max_length=16, choices=InterpreterState.choices, default=InterpreterState.NONE
    )
    interpreter_language = models.CharField(max_length=40, blank=True)
    interpreter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        indexes = [
            models.Index(fields=["organization", "state", "created_at"], name="conversation_queue")
        ]
        ordering = ["created_at"]

    def __str__(self):
        return str(self.public_id)


class ConversationKey(TenantModel):
    """The conversation's own content key, wrapped; deleted when the conversation ends."""

    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, related_name="key")
    key_id = models.CharField(max_length=32)
    wrapped = models.BinaryField()

    def __str__(self):
        return f"key of {self.conversation_id}"


class Message(TenantModel):
    """One message of a live conversation, as ciphertext. Deleted when the conversation ends."""

    class Sender(models.TextChoices):
        SURVIVOR = "survivor", _("Survivor")
        WORKER = "worker", _("Worker")
        SYSTEM = "system", _("Notice")
        INTERPRETER = "interpreter", _("Interpreter")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    seq = models.PositiveIntegerField()
    sender = models.CharField(max_length=16, choices=Sender.choices)
    # The sender's own id for the message: a resend after a dropped connection
    # finds the stored message instead of storing it twice.
    client_id = models.CharField(max_length=64)
    ciphertext = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="message_unique_seq"),
            models.UniqueConstraint(
                fields=["conversation", "sender", "client_id"], name="message_unique_client_id"
            ),
        ]
        ordering = ["seq"]

    def __str__(self):
        return f"{self.conversation_id}#{self.seq}"


class Shift(TenantModel):
    """A worker's time on the queue; she is offered no new chat near its end."""

    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    ends_at = models.DateTimeField(_("shift ends"))
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.worker_id} until {self.ends_at:%H:%M}"


class CannedMessage(TenantModel):
    title = models.CharField(_("title"), max_length=80)
    body_en = models.TextField(_("text in English"))
    body_fr = models.TextField(_("text in French"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "title"]

    def __str__(self):
        return self.title

    def body(self, language_code):
        return self.body_fr if (language_code or "").startswith("fr") else self.body_en


class OptionalQuestion(TenantModel):
    """A question asked before the chat, always skippable; only aggregate counts are kept."""

    text_en = models.CharField(_("question in English"), max_length=200)
    text_fr = models.CharField(_("question in French"), max_length=200)
    why_en = models.CharField(_("why we ask, in English"), max_length=200)
    why_fr = models.CharField(_("why we ask, in French"), max_length=200)
    choices_en = models.TextField(_("answers in English"), help_text=_("One per line."))
    choices_fr = models.TextField(_("answers in French"), help_text=_("One per line, same order."))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("asked"), default=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return self.text_en

    def localized(self, language_code):
        french = (language_code or "").startswith("fr")
        text, why, choices = (
            (self.text_fr, self.why_fr, self.choices_fr)
            if french
            else (self.text_en, self.why_en, self.choices_en)
        )
        return text, why, [line.strip() for line in choices.splitlines() if line.strip()]


class QuestionAnswerCount(TenantModel):
    """How many times an answer was given in a month: nothing links it to anyone."""

    question = models.ForeignKey(OptionalQuestion, on_delete=models.CASCADE, related_name="+")
    choice = models.PositiveSmallIntegerField()
    month = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["question", "choice", "month"], name="answer_count_unique"
            )
        ]

    def __str__(self):
        return f"{self.question_id}/{self.choice}/{self.month:%Y-%m}: {self.count}"


class VisitorBlock(TenantModel):
    """A browser a worker blocked for a while: the hash of the token in that browser's cookie."""

    token_hash = models.CharField(max_length=64, unique=True)
    blocked_until = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"block until {self.blocked_until:%Y-%m-%d %H:%M}"


class Case(TenantModel):
    """A pseudonymous reference for a survivor who comes back: no name, no contact details.

    The code word is kept only as an Argon2 hash, the case's safe word only as
    a keyed digest. Deleted by enforce_retention after the organization's
    ``cases`` window since it was last used.
    """

    reference = models.CharField(max_length=12)
    code_word_hash = models.CharField(max_length=200, blank=True)
    safe_word_digest = models.CharField(max_length=64, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "reference"], name="case_unique_reference"
            )
        ]

    def __str__(self):
        return self.reference
