"""Support forums: groups, their invite links, their pseudonymous members, posts and reports.

Survivors have no account. A forum member is a display name and a
passphrase hash that belong to one group of one organization; she is signed
in by keeping her member id in the session on the organization's host.
Posts are stored only encrypted, under the organization's data key
(``policies.keys``), each ciphertext bound to its row.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
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
    """A private, moderated, asynchronous forum run by the organization's moderators."""

    class Moderation(models.TextChoices):
        POST = "post", _("Posts appear at once; moderators act on reports")
        PRE = "pre", _("Every post waits for a moderator's approval")

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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name

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
