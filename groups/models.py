"""Support forums and group chats: groups, members, posts, and the sessions of group chats.

Survivors have no account. A forum member is a display name and a
passphrase hash that belong to one group of one organization; she is signed
in by keeping her member id in the session on the organization's host.
Posts are stored only encrypted, under the organization's data key
(``policies.keys``), each ciphertext bound to its row.

A group of kind "live" is a group chat: it meets at the times of its
``GroupSession`` rows. Each sitting is a ``GroupMeeting``; while it is open,
its participants and its messages (ciphertext under the meeting's own key,
``MeetingKey``) exist, and its end deletes them all. What is left is when it
met and how many took part.
"""

import datetime
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel


def validate_post_retention_days(value):
    maximum = settings.RETENTION_MAXIMUM_DAYS["forum_posts"]
    if not 1 <= value <= maximum:
        raise ValidationError(
            _("Choose between 1 and %(maximum)d days.") % {"maximum": maximum}, code="range"
        )


class SupportGroup(TenantModel):
    """A private group run by the organization's moderators: a forum, or a group chat.

    A forum is asynchronous; a group chat ("live") meets in real time at the
    times of its sessions, reached by its link (``link_id``).
    """

    class Kind(models.TextChoices):
        FORUM = "forum", _("Forum")
        LIVE = "live", _("Group chat")

    class Moderation(models.TextChoices):
        POST = "post", _("Posts appear at once; moderators act on reports")
        PRE = "pre", _("Every post waits for a moderator's approval")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.FORUM)
    name = models.CharField(_("name"), max_length=100, help_text=_("Shown to members."))
    purpose = models.TextField(
        _("purpose"), help_text=_("Shown on the invite page, before anyone asks to join.")
    )
    facilitation = models.TextField(
        _("how it is facilitated"),
        help_text=_("Who moderates, how often they read, what members can expect from them."),
    )
    ends_on = models.DateField(
        _("last day"),
        null=True,
        blank=True,
        help_text=_("For a time-limited group. Leave empty for a drop-in group."),
    )
    moderation = models.CharField(
        _("moderation"), max_length=8, choices=Moderation.choices, default=Moderation.POST
    )
    post_retention_days = models.PositiveIntegerField(
        _("posts kept for (days)"),
        default=90,
        validators=[validate_post_retention_days],
        help_text=_(
            "Older posts are deleted. Once the group has ended, the whole group is "
            "deleted after this many days."
        ),
    )
    # The address of a group chat's page; None for a forum.
    link_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    waiting_room_minutes = models.PositiveSmallIntegerField(
        _("waiting room opens (minutes before the start)"),
        default=10,
        validators=[MaxValueValidator(120)],
        help_text=_("For a group chat: how early people can arrive and wait to be let in."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name

    @property
    def is_live(self):
        return self.kind == self.Kind.LIVE

    def has_ended(self, *, today):
        """Return True once ``today`` (in the organization's time zone) is past the last day."""
        return self.ends_on is not None and today > self.ends_on


class GroupInvite(TenantModel):
    """A link by which survivors ask to join a group: expiring, use-limited, revocable.

    Only the SHA-256 of the token is stored; the link is shown once, to the
    moderator who created it. Deleted with its group.
    """

    group = models.ForeignKey(SupportGroup, on_delete=models.CASCADE, related_name="invites")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    max_uses = models.PositiveIntegerField(_("maximum uses"))
    uses = models.PositiveIntegerField(_("used"), default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.group_id}:{self.pk}"


class GroupMember(TenantModel):
    """A survivor's pseudonymous identity and her place in one group.

    Holds no email, phone number or real name. Deleted, with her posts and
    reports, when she leaves; once refused or removed, or when her request
    waits unanswered, deleted by enforce_retention after the organization's
    ``forum_members_ended`` window; deleted with its group.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Member")
        REFUSED = "refused", _("Refused")
        SUSPENDED = "suspended", _("Suspended")
        REMOVED = "removed", _("Removed")

    group = models.ForeignKey(SupportGroup, on_delete=models.CASCADE, related_name="members")
    display_name = models.CharField(_("display name"), max_length=30)
    passphrase_hash = models.CharField(max_length=128)
    state = models.CharField(_("state"), max_length=16, choices=State.choices)
    agreement_version = models.PositiveIntegerField(
        help_text=_("The version of the group agreement she accepted last.")
    )
    requested_at = models.DateTimeField(_("asked to join"), auto_now_add=True)
    state_changed_at = models.DateTimeField(default=timezone.now, db_index=True)
    failed_sign_ins = models.PositiveSmallIntegerField(default=0)
    sign_in_locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                models.F("organization"), Lower("display_name"), name="forum_member_unique_name"
            )
        ]
        indexes = [models.Index(fields=["group", "state"], name="forum_member_group_state")]
        ordering = ["display_name", "pk"]

    def __str__(self):
        return self.display_name


class Post(TenantModel):
    """A topic's first post or a reply; its text exists here only encrypted.

    A topic is the set of posts sharing a ``thread`` (the first post's id),
    so each post is deleted on its own: by its author, by a moderator, with
    its author, after the group's window by enforce_retention, or with its
    group.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a moderator")
        PUBLISHED = "published", _("Published")
        HIDDEN = "hidden", _("Hidden by a moderator")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    group = models.ForeignKey(SupportGroup, on_delete=models.CASCADE, related_name="posts")
    thread = models.UUIDField()
    author_member = models.ForeignKey(
        GroupMember, null=True, blank=True, on_delete=models.CASCADE, related_name="posts"
    )
    # A staff post outlives its author's account, as the organization's.
    author_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    title_sealed = models.BinaryField(blank=True, default=b"")
    body_sealed = models.BinaryField()
    status = models.CharField(max_length=16, choices=Status.choices)
    pinned = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["group", "thread", "created_at"], name="forum_post_thread"),
            models.Index(fields=["group", "created_at"], name="forum_post_recent"),
        ]
        ordering = ["created_at", "id"]

    def __str__(self):
        return str(self.pk)

    @property
    def is_topic(self):
        return self.thread == self.id

    @property
    def is_from_staff(self):
        return self.author_member_id is None

    def associated_data(self, field):
        """Bind a ciphertext to this row and field: moved anywhere else it does not decrypt."""
        return f"forum-post:{self.organization_id}:{self.group_id}:{self.pk}:{field}".encode()


class PostReport(TenantModel):
    """A member's report of a post to the moderators: a reason from a list, no free text.

    Deleted with the post or with the member who made it.
    """

    class Reason(models.TextChoices):
        PERSONAL_DETAILS = "personal_details", _("It shares someone's personal details")
        HURTFUL = "hurtful", _("It is hurtful or harassing")
        AGREEMENT = "agreement", _("It goes against the group agreement")
        SAFETY = "safety", _("I am worried about someone's safety")
        OTHER = "other", _("Something else")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(GroupMember, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=32, choices=Reason.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "reporter"], name="forum_report_once")
        ]
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.post_id}: {self.reason}"


# Group chats


class GroupSession(TenantModel):
    """A time at which a group chat meets, in the organization's time zone: once, or weekly.

    A session whose end is not after its start ends the next day. A weekly
    session repeats on the same weekday from ``first_day`` until the group's
    last day, if it has one. Deleted with its group.
    """

    group = models.ForeignKey(SupportGroup, on_delete=models.CASCADE, related_name="sessions")
    first_day = models.DateField(_("day"))
    starts_at = models.TimeField(_("starts"))
    ends_at = models.TimeField(_("ends"))
    weekly = models.BooleanField(_("every week"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["first_day", "starts_at", "pk"]

    def __str__(self):
        return f"{self.first_day} {self.starts_at:%H:%M}-{self.ends_at:%H:%M}"

    def sitting_on(self, day, tz):
        """Return the (start, end) of the sitting that begins on ``day``, as aware datetimes."""
        start = datetime.datetime.combine(day, self.starts_at, tz)
        end_day = day if self.ends_at > self.starts_at else day + datetime.timedelta(days=1)
        return start, datetime.datetime.combine(end_day, self.ends_at, tz)


class GroupMeeting(TenantModel):
    """One sitting of a group chat session, from its waiting room to its end.

    Until it ends it has a key, participants, messages and session invites;
    ending it deletes them all (``groups.services.meeting_end``). What remains
    is when it met and how many people took part, deleted by enforce_retention
    after the organization's ``group_chat_attendance`` window.
    """

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ENDED = "ended", _("Ended")

    class Outcome(models.TextChoices):
        SCHEDULED = "scheduled", _("Ended on schedule")
        FACILITATOR = "facilitator", _("Ended early by a facilitator")
        CANCELLED = "cancelled", _("Session deleted")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    group = models.ForeignKey(SupportGroup, on_delete=models.CASCADE, related_name="meetings")
    session = models.ForeignKey(
        GroupSession, null=True, on_delete=models.SET_NULL, related_name="meetings"
    )
    opens_at = models.DateTimeField(help_text=_("When its waiting room opens."))
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The next sequence number to give a message; every message's place is fixed here.
    next_seq = models.PositiveIntegerField(default=1)
    participant_count = models.PositiveIntegerField(
        default=0, help_text=_("How many people were let in, each counted once.")
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "starts_at"], name="meeting_unique_sitting")
        ]
        ordering = ["-starts_at", "-pk"]

    def __str__(self):
        return str(self.public_id)

    def is_open_at(self, moment):
        """Return True while people can arrive: from its waiting room's opening to its end."""
        return self.state == self.State.OPEN and self.opens_at <= moment < self.ends_at


class MeetingKey(TenantModel):
    """The meeting's own content key, wrapped; deleted when the meeting ends."""

    meeting = models.OneToOneField(GroupMeeting, on_delete=models.CASCADE, related_name="key")
    key_id = models.CharField(max_length=32)
    wrapped = models.BinaryField()

    def __str__(self):
        return f"key of {self.meeting_id}"


class SessionInvite(TenantModel):
    """A link to one sitting of a group chat for someone who is not a member of the group.

    Only the SHA-256 of the token is stored; the link is shown once, to the
    facilitator who made it. Deleted when the sitting ends.
    """

    meeting = models.ForeignKey(GroupMeeting, on_delete=models.CASCADE, related_name="invites")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    max_uses = models.PositiveIntegerField(_("maximum uses"))
    uses = models.PositiveIntegerField(_("used"), default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.meeting_id}:{self.pk}"


class MeetingParticipant(TenantModel):
    """A person in one meeting: the display name she chose there, and where she stands.

    She is known by this row's id in her session on the organization's host.
    A forum member keeps a link to her membership, so that being turned away
    holds for her whatever browser she comes back with. Deleted when the
    meeting ends.
    """

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        ADMITTED = "admitted", _("In the room")
        REFUSED = "refused", _("Turned away")
        REMOVED = "removed", _("Removed")
        LEFT = "left", _("Left")

    meeting = models.ForeignKey(GroupMeeting, on_delete=models.CASCADE, related_name="participants")
    display_name = models.CharField(_("display name"), max_length=30)
    state = models.CharField(max_length=16, choices=State.choices, default=State.WAITING)
    muted = models.BooleanField(default=False)
    member = models.ForeignKey(
        GroupMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    arrived_at = models.DateTimeField()
    admitted_at = models.DateTimeField(null=True, blank=True)
    # She reads the messages after this one: what was said before she came in is not hers.
    first_seq = models.PositiveIntegerField(default=0)
    # Her open sockets: a reload opens the new one before the old one closes.
    sockets = models.IntegerField(default=0)
    left_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When her last socket closed: the grace period starts.")
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                models.F("meeting"), Lower("display_name"), name="participant_unique_name"
            )
        ]
        ordering = ["arrived_at", "pk"]

    def __str__(self):
        return self.display_name


class MeetingMessage(TenantModel):
    """One entry of a meeting's log, numbered in order: a message, a pinned resource, a removal.

    A message's text exists here only as ciphertext under the meeting's key; a
    removed message loses it at once. Every entry is deleted when the meeting
    ends.
    """

    class Kind(models.TextChoices):
        MESSAGE = "message", _("Message")
        PIN = "pin", _("Pinned resource")
        REMOVAL = "removal", _("Removal")

    meeting = models.ForeignKey(GroupMeeting, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # "p<participant id>" or "f<staff user id>": the author, for recognising a resend.
    sender = models.CharField(max_length=24)
    participant = models.ForeignKey(
        MeetingParticipant, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The sender's own id for the entry: a resend after a dropped connection
    # finds the stored entry instead of storing it twice.
    client_id = models.CharField(max_length=64)
    ciphertext = models.BinaryField(blank=True, default=b"")
    removed = models.BooleanField(default=False)
    # For a removal: the entry it removes.
    target_seq = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "seq"], name="meeting_message_unique_seq"),
            models.UniqueConstraint(
                fields=["meeting", "sender", "client_id"], name="meeting_message_unique_client_id"
            ),
        ]
        ordering = ["seq"]

    def __str__(self):
        return f"{self.meeting_id}#{self.seq}"
