"""Changes to the support forums and group chats.

Every function is given the organization (from the request's host) and
refuses anything that belongs to another. Moderators' actions are recorded
in the audit log, by type and id only. A survivor's own actions (asking to
join, posting, leaving) are not staff actions and leave no entry.

Group chats follow crisis chat (``conversations.services``) for delivery and
erasure. Each entry of a meeting's log (a message, a pinned resource, a
removal) is stored, as ciphertext under the meeting's own key, with the
meeting's next sequence number before anything is relayed; sockets resume
from the last number they saw, so the channel layer, which delivers at most
once, can drop an event without anyone missing it. Events go out only after
the transaction commits.

Erasure: ``meeting_end`` deletes the meeting's key, log, participants and
session invites in the transaction that marks it ended, at the scheduled end
or when a facilitator ends it. The meeting row keeps when it met and how many
took part, until enforce_retention removes it (``group_chat_attendance``).
"""

import base64
import datetime
import secrets
import unicodedata
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.services import token_hash
from groups import selectors
from groups.models import (
    GroupInvite,
    GroupMeeting,
    GroupMember,
    GroupSession,
    MeetingKey,
    MeetingMessage,
    MeetingParticipant,
    Post,
    PostReport,
    SessionInvite,
    SupportGroup,
)
from policies.crypto import encrypt, key_new, key_unwrap, key_wrap
from policies.keys import organization_data_key
from policies.models import ConsentDocument
from policies.pseudonyms import validate_display_name
from policies.selectors import consent_document_current
from policies.services import audit_record, consent_record
from shelterchat.consumers import ActionError
from shelterchat.events import broadcast_after_commit

SIGN_IN_ATTEMPTS = 5
SIGN_IN_LOCK_MINUTES = 15
GROUP_FIELDS = ("name", "purpose", "facilitation", "ends_on", "moderation", "post_retention_days")
LIVE_GROUP_FIELDS = ("name", "purpose", "facilitation", "ends_on", "waiting_room_minutes")
SESSION_FIELDS = ("first_day", "starts_at", "ends_at", "weekly")
LIVE_MESSAGE_MAX_CHARS = 2000


class InviteError(ValidationError):
    """An invite link that cannot be used; the message says why, plainly.

    The code is ``unknown`` for a token this organization never issued
    (another organization's included), else why it stopped working.
    """


def _check_organization(organization, *objects):
    if any(each.organization_id != organization.pk for each in objects):
        raise PermissionDenied


def _today(organization):
    return timezone.localdate(timezone=organization.tz)


def group_agreement_current(*, organization):
    """Return the current version of the organization's group agreement, or None."""
    return consent_document_current(
        organization=organization, kind=ConsentDocument.Kind.GROUP_AGREEMENT
    )


# Groups


def _group_fields(fields, allowed=GROUP_FIELDS):
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"not a group field: {', '.join(sorted(unknown))}")
    return fields


def support_group_create(*, organization, actor, **fields):
    group = SupportGroup(organization=organization, **_group_fields(fields))
    group.full_clean()
    group.save()
    audit_record(organization=organization, actor=actor, action="forum.group.create", target=group)
    return group


def live_group_create(*, organization, actor, **fields):
    """Create a group chat, with the random id its link carries."""
    group = SupportGroup(
        organization=organization,
        kind=SupportGroup.Kind.LIVE,
        link_id=uuid.uuid4(),
        **_group_fields(fields, LIVE_GROUP_FIELDS),
    )
    group.full_clean()
    group.save()
    audit_record(organization=organization, actor=actor, action="live.group.create", target=group)
    return group


def support_group_update(*, organization, actor, group, **fields):
    _check_organization(organization, group)
    allowed = LIVE_GROUP_FIELDS if group.is_live else GROUP_FIELDS
    for name, value in _group_fields(fields, allowed).items():
        setattr(group, name, value)
    group.full_clean()
    group.save()
    audit_record(organization=organization, actor=actor, action="forum.group.update", target=group)
    return group


# Invite links


def group_invite_create(*, organization, actor, group, valid_days, max_uses):
    """Create an invite link to ``group``; return it and its token (shown once, never stored)."""
    _check_organization(organization, group)
    if group.has_ended(today=_today(organization)):
        raise ValidationError(_("This group has ended: no one can join it."))
    if group_agreement_current(organization=organization) is None:
        raise ValidationError(
            _("Publish the group agreement first: people accept it when they ask to join.")
        )
    token = secrets.token_urlsafe(32)
    invite = GroupInvite.objects.create(
        organization=organization,
        group=group,
        token_hash=token_hash(token),
        created_by=actor,
        expires_at=timezone.now() + datetime.timedelta(days=valid_days),
        max_uses=max_uses,
    )
    audit_record(
        organization=organization, actor=actor, action="forum.invite.create", target=invite
    )
    return invite, token


def group_invite_revoke(*, organization, actor, invite):
    _check_organization(organization, invite)
    if invite.revoked_at is None:
        invite.revoked_at = timezone.now()
        invite.save(update_fields=["revoked_at"])
        audit_record(
            organization=organization, actor=actor, action="forum.invite.revoke", target=invite
        )


def group_invite_check(*, organization, token, lock=False):
    """Return the usable invite for ``token`` in ``organization`` or raise InviteError.

    With ``lock``, the invite's row stays locked until the transaction ends,
    so that its uses are counted one at a time.
    """
    invites = GroupInvite.objects.filter(
        organization=organization, token_hash=token_hash(token or "")
    ).select_related("group")
    if lock:
        invites = invites.select_for_update(of=("self",))
    invite = invites.first()
    if invite is None:
        raise InviteError(
            _(
                "This link does not work. Check that it was copied whole, or ask the "
                "person who sent it for a new one."
            ),
            code="unknown",
        )
    if invite.revoked_at is not None:
        raise InviteError(
            _("This link was withdrawn. Ask the person who sent it for a new one."),
            code="revoked",
        )
    if invite.expires_at <= timezone.now():
        raise InviteError(
            _("This link has expired. Ask the person who sent it for a new one."),
            code="expired",
        )
    if invite.uses >= invite.max_uses:
        raise InviteError(
            _(
                "This link has been used as many times as it allows. Ask the person who "
                "sent it for a new one."
            ),
            code="used_up",
        )
    if invite.group.has_ended(today=_today(organization)):
        raise InviteError(_("This group has ended."), code="ended")
    return invite


# Members


def display_name_normalize(value):
    """Return ``value`` in Unicode NFC with its runs of spaces made single."""
    return " ".join(unicodedata.normalize("NFC", value or "").split())


def group_member_request(*, organization, token, display_name, passphrase, agreement_version):
    """Ask to join the invite's group under ``display_name``; return the pending member.

    ``agreement_version`` is the version of the group agreement the survivor
    was shown and accepted: if a newer one was published meanwhile, she must
    read it first. Counts one use of the invite.
    """
    display_name = display_name_normalize(display_name)
    validate_display_name(display_name)
    passphrase_hash = make_password(passphrase)
    with transaction.atomic():
        invite = group_invite_check(organization=organization, token=token, lock=True)
        agreement = group_agreement_current(organization=organization)
        if agreement is None or agreement.version != agreement_version:
            raise ValidationError(
                _("The group agreement has just changed. Please read it again."),
                code="agreement",
            )
        try:
            with transaction.atomic():
                member = GroupMember.objects.create(
                    organization=organization,
                    group=invite.group,
                    display_name=display_name,
                    passphrase_hash=passphrase_hash,
                    state=GroupMember.State.PENDING,
                    agreement_version=agreement.version,
                )
        except IntegrityError as error:
            raise ValidationError(
                _("Someone here already uses this name. Choose another one."), code="name_taken"
            ) from error
        consent_record(organization=organization, document=agreement)
        invite.uses += 1
        invite.save(update_fields=["uses"])
    return member


def group_member_sign_in(*, organization, display_name, passphrase):
    """Return the member with this display name and passphrase, or None.

    Failures are counted per display name, since no address is ever known:
    after ``SIGN_IN_ATTEMPTS`` in a row the name is refused for
    ``SIGN_IN_LOCK_MINUTES``, even with the right passphrase. Every attempt
    hashes the passphrase once, so an unknown or locked name answers no
    faster than a known one.
    """
    now = timezone.now()
    with transaction.atomic():
        member = (
            GroupMember.objects.select_for_update()
            .filter(
                organization=organization,
                display_name__iexact=display_name_normalize(display_name),
            )
            .first()
        )
        if member is None:
            make_password(passphrase)
            return None
        matches = check_password(passphrase, member.passphrase_hash)
        if member.sign_in_locked_until is not None and member.sign_in_locked_until > now:
            return None
        if matches:
            member.failed_sign_ins = 0
            member.sign_in_locked_until = None
        else:
            member.failed_sign_ins += 1
            if member.failed_sign_ins >= SIGN_IN_ATTEMPTS:
                member.failed_sign_ins = 0
                member.sign_in_locked_until = now + datetime.timedelta(minutes=SIGN_IN_LOCK_MINUTES)
        member.save(update_fields=["failed_sign_ins", "sign_in_locked_until"])
    return member if matches else None


def _member_transition(*, organization, actor, member, allowed, state, action):
    _check_organization(organization, member)
    if member.state not in allowed:
        raise ValidationError(_("This person's situation has changed meanwhile. Reload the page."))
    member.state = state
    member.state_changed_at = timezone.now()
    member.save(update_fields=["state", "state_changed_at"])
    audit_record(
        organization=organization, actor=actor, action=f"forum.member.{action}", target=member
    )
    return member


def group_member_approve(*, organization, actor, member):
    State = GroupMember.State
    return _member_transition(
        organization=organization,
        actor=actor,
        member=member,
        allowed={State.PENDING},
        state=State.APPROVED,
        action="approve",
    )


def group_member_refuse(*, organization, actor, member):
    State = GroupMember.State
    return _member_transition(
        organization=organization,
        actor=actor,
        member=member,
        allowed={State.PENDING},
        state=State.REFUSED,
        action="refuse",
    )


def group_member_suspend(*, organization, actor, member):
    """Lock the member out of the group until a moderator reinstates her; her posts stay."""
    State = GroupMember.State
    return _member_transition(
        organization=organization,
        actor=actor,
        member=member,
        allowed={State.APPROVED},
        state=State.SUSPENDED,
        action="suspend",
    )


def group_member_reinstate(*, organization, actor, member):
    State = GroupMember.State
    return _member_transition(
        organization=organization,
        actor=actor,
        member=member,
        allowed={State.SUSPENDED},
        state=State.APPROVED,
        action="reinstate",
    )


def group_member_remove(*, organization, actor, member):
    """Lock the member out for good and hide her posts from members.

    Moderators can still read what she wrote until enforce_retention deletes
    her and her posts, after the ``forum_members_ended`` window.
    """
    State = GroupMember.State
    return _member_transition(
        organization=organization,
        actor=actor,
        member=member,
        allowed={State.APPROVED, State.SUSPENDED},
        state=State.REMOVED,
        action="remove",
    )


def group_member_agreement_accept(*, organization, member, document):
    """Record that the member accepted ``document``, a newer version of the group agreement."""
    _check_organization(organization, member, document)
    if document.kind != ConsentDocument.Kind.GROUP_AGREEMENT:
        raise PermissionDenied
    consent_record(organization=organization, document=document)
    member.agreement_version = document.version
    member.save(update_fields=["agreement_version"])


def group_member_leave(*, organization, member):
    """Erase the member now: her identity, her membership, her posts and her reports."""
    _check_organization(organization, member)
    member.delete()


# Posts


def _seal(organization, post, *, title, body):
    key = organization_data_key(organization=organization)
    post.title_sealed = encrypt(key, title, post.associated_data("title")) if title else b""
    post.body_sealed = encrypt(key, body, post.associated_data("body"))


def _check_may_post(organization, group, member):
    if member.group_id != group.pk or member.state != GroupMember.State.APPROVED:
        raise PermissionDenied
    if group.has_ended(today=_today(organization)):
        raise ValidationError(_("This group has ended: it can still be read, not posted in."))


def post_create(*, organization, group, body, title="", thread=None, member=None, staff=None):
    """Post a new topic (``title``, no ``thread``) or a reply in ``thread``, as one author.

    The author is a member (``member``) or a moderator (``staff``). A
    member's post waits for approval in a pre-moderated group.
    """
    _check_organization(organization, group, *([member] if member else []))
    if (member is None) == (staff is None):
        raise TypeError("a post has one author: a member or a moderator")
    if member is not None:
        _check_may_post(organization, group, member)
    if thread is None and not title:
        raise ValidationError(_("A new topic needs a title."))
    if (
        thread is not None
        and not Post.objects.filter(organization=organization, group=group, thread=thread).exists()
    ):
        raise PermissionDenied
    pre_moderated = member is not None and group.moderation == SupportGroup.Moderation.PRE
    post = Post(
        organization=organization,
        group=group,
        author_member=member,
        author_staff=staff,
        status=Post.Status.PENDING if pre_moderated else Post.Status.PUBLISHED,
    )
    post.thread = thread or post.id
    _seal(organization, post, title=title if thread is None else "", body=body)
    post.save(force_insert=True)
    if staff is not None:
        audit_record(
            organization=organization, actor=staff, action="forum.post.create", target=post
        )
    return post


def post_edit(*, organization, member, post, body, title=""):
    """Replace the text of the member's own post; in a pre-moderated group it waits again."""
    _check_organization(organization, post, member)
    if post.author_member_id != member.pk:
        raise PermissionDenied
    group = member.group
    _check_may_post(organization, group, member)
    if post.is_topic and not title:
        raise ValidationError(_("A new topic needs a title."))
    _seal(organization, post, title=title if post.is_topic else "", body=body)
    post.edited_at = timezone.now()
    if post.status == Post.Status.PUBLISHED and group.moderation == SupportGroup.Moderation.PRE:
        post.status = Post.Status.PENDING
    post.save(update_fields=["title_sealed", "body_sealed", "edited_at", "status"])
    return post


def post_delete_own(*, organization, member, post):
    _check_organization(organization, post, member)
    if post.author_member_id != member.pk:
        raise PermissionDenied
    post.delete()


def post_report(*, organization, member, post, reason):
    """Report ``post`` to the moderators; reporting it again updates the reason and reopens it."""
    _check_organization(organization, post, member)
    if member.group_id != post.group_id or member.state != GroupMember.State.APPROVED:
        raise PermissionDenied
    report, _created = PostReport.objects.update_or_create(
        organization=organization,
        post=post,
        reporter=member,
        defaults={"reason": reason, "resolved_at": None},
    )
    return report


def _post_moderate(*, organization, actor, post, action, allowed=None, resolve=True, **changes):
    _check_organization(organization, post)
    if allowed is not None and post.status not in allowed:
        raise ValidationError(_("This post has changed meanwhile. Reload the page."))
    for field, value in changes.items():
        setattr(post, field, value)
    if changes:
        post.save(update_fields=list(changes))
    if resolve:
        PostReport.objects.filter(
            organization=organization, post=post, resolved_at__isnull=True
        ).update(resolved_at=timezone.now())
    audit_record(organization=organization, actor=actor, action=f"forum.post.{action}", target=post)
    return post


def post_approve(*, organization, actor, post):
    return _post_moderate(
        organization=organization,
        actor=actor,
        post=post,
        action="approve",
        allowed={Post.Status.PENDING},
        status=Post.Status.PUBLISHED,
    )


def post_hide(*, organization, actor, post):
    """Hide the post from members (its author sees that it was hidden); close its reports."""
    return _post_moderate(
        organization=organization,
        actor=actor,
        post=post,
        action="hide",
        allowed={Post.Status.PENDING, Post.Status.PUBLISHED},
        status=Post.Status.HIDDEN,
    )


def post_restore(*, organization, actor, post):
    return _post_moderate(
        organization=organization,
        actor=actor,
        post=post,
        action="restore",
        allowed={Post.Status.HIDDEN},
        status=Post.Status.PUBLISHED,
    )


def post_reports_dismiss(*, organization, actor, post):
    """Close the post's reports and leave it as it is."""
    return _post_moderate(organization=organization, actor=actor, post=post, action="keep")


def post_pin(*, organization, actor, post):
    """Pin a moderator's post (a resource) to the top of the group's page."""
    if not post.is_from_staff:
        raise ValidationError(_("Only moderators' posts can be pinned."))
    return _post_moderate(
        organization=organization, actor=actor, post=post, action="pin", resolve=False, pinned=True
    )


def post_unpin(*, organization, actor, post):
    return _post_moderate(
        organization=organization,
        actor=actor,
        post=post,
        action="unpin",
        resolve=False,
        pinned=False,
    )


def post_delete(*, organization, actor, post):
    _check_organization(organization, post)
    audit_record(organization=organization, actor=actor, action="forum.post.delete", target=post)
    post.delete()


# Group chats


class LiveError(ActionError):
    """An action of a group chat that cannot happen."""

    MESSAGES = {
        **ActionError.MESSAGES,
        "ended": gettext_lazy("This session has ended."),
        "unknown": gettext_lazy("This person or message is no longer here."),
        "not_admitted": gettext_lazy("Please wait until a facilitator lets you in."),
        "muted": gettext_lazy("A facilitator has paused your messages for now."),
        "empty": gettext_lazy("The message is empty."),
        "too_long": gettext_lazy("The message is too long."),
        "changed": gettext_lazy("This has changed meanwhile."),
    }


def meeting_group(meeting):
    """Return the channel-layer group of the room: people let in, and facilitators."""
    return f"live.{meeting.public_id.hex}"


def meeting_lobby_group(meeting):
    """Return the channel-layer group of the sockets of people waiting to be let in."""
    return f"live.{meeting.public_id.hex}.lobby"


def meeting_staff_group(meeting):
    """Return the channel-layer group of the meeting's facilitators."""
    return f"live.{meeting.public_id.hex}.staff"


def participant_group(meeting, participant_id):
    """Return the channel-layer group of one participant's sockets."""
    return f"live.{meeting.public_id.hex}.p{participant_id}"


def _broadcast_people(meeting):
    """Tell the room who is in it, and facilitators who waits, once the transaction commits.

    Read after the commit, so that of two changes at once the later message
    holds both.
    """

    def send():
        roster, waiting = selectors.meeting_people(meeting=meeting)
        layer = get_channel_layer()
        async_to_sync(layer.group_send)(
            meeting_group(meeting), {"type": "live.roster", "roster": roster}
        )
        async_to_sync(layer.group_send)(
            meeting_staff_group(meeting), {"type": "live.waiting", "waiting": waiting}
        )

    transaction.on_commit(send)


def meeting_key(meeting):
    """Return the meeting's content key; LiveError("ended") once it is destroyed."""
    row = MeetingKey.objects.filter(
        organization_id=meeting.organization_id, meeting=meeting
    ).first()
    if row is None:
        raise LiveError("ended")
    return key_unwrap(row.key_id, row.wrapped)


# Sessions: when a group chat meets.


def _session_check(organization, group, fields):
    if not group.is_live:
        raise PermissionDenied
    if group.has_ended(today=_today(organization)):
        raise ValidationError(_("This group has ended: it cannot meet again."))
    if fields["first_day"] < _today(organization):
        raise ValidationError(_("Choose a day that has not passed."))
    if group.ends_on is not None and fields["first_day"] > group.ends_on:
        raise ValidationError(_("Choose a day before the group's last day."))


def group_session_create(*, organization, actor, group, **fields):
    """Schedule a session of the group chat: once, or every week."""
    _check_organization(organization, group)
    _group_fields(fields, SESSION_FIELDS)
    _session_check(organization, group, fields)
    session = GroupSession(organization=organization, group=group, **fields)
    session.full_clean()
    session.save()
    audit_record(
        organization=organization, actor=actor, action="live.session.create", target=session
    )
    return session


def group_session_delete(*, organization, actor, session, now=None):
    """Delete a session; a sitting of it in progress ends (and is erased) first.

    Sittings that have not begun go with it, their invites included; the
    attendance of past sittings stays.
    """
    _check_organization(organization, session)
    now = now or timezone.now()
    for meeting in GroupMeeting.objects.filter(
        organization=organization, session=session, state=GroupMeeting.State.OPEN
    ):
        if meeting.opens_at <= now:
            meeting_end(meeting=meeting, outcome=GroupMeeting.Outcome.CANCELLED, now=now)
        else:
            meeting.delete()
    audit_record(
        organization=organization, actor=actor, action="live.session.delete", target=session
    )
    session.delete()


# Meetings: one sitting each.


def _meeting_for_sitting(organization, group, sitting):
    with transaction.atomic():
        meeting, created = GroupMeeting.objects.get_or_create(
            organization=organization,
            session=sitting.session,
            starts_at=sitting.starts_at,
            defaults={"group": group, "opens_at": sitting.opens_at, "ends_at": sitting.ends_at},
        )
        if created:
            key_id, wrapped = key_wrap(key_new())
            MeetingKey.objects.create(
                organization=organization, meeting=meeting, key_id=key_id, wrapped=wrapped
            )
    return meeting


def meeting_open(*, organization, group, now=None):
    """Return the group's meeting whose waiting room is open at ``now``, or None.

    Its row and key are made the first time anyone reaches it. Meetings of the
    group past their end are ended (and erased) first.
    """
    now = now or timezone.now()
    meetings_end_overdue(organization=organization, group=group, now=now)
    sitting = selectors.sitting_next(organization=organization, group=group, now=now)
    if sitting is None or sitting.opens_at > now:
        return None
    return _meeting_for_sitting(organization, group, sitting)


def meetings_end_overdue(*, organization, group=None, now=None):
    """End every open meeting past its scheduled end; return how many were ended."""
    now = now or timezone.now()
    overdue = GroupMeeting.objects.filter(
        organization=organization, state=GroupMeeting.State.OPEN, ends_at__lte=now
    )
    if group is not None:
        overdue = overdue.filter(group=group)
    return sum(
        meeting_end(meeting=meeting, outcome=GroupMeeting.Outcome.SCHEDULED, now=now)
        for meeting in overdue
    )


def meeting_end(*, meeting, outcome, actor=None, now=None):
    """End the meeting and erase it: its key, log, participants and invites go.

    Returns False when it had already ended.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = GroupMeeting.objects.select_for_update().get(
            pk=meeting.pk, organization=meeting.organization_id
        )
        if locked.state == GroupMeeting.State.ENDED:
            return False
        organization_id = locked.organization_id
        MeetingMessage.objects.filter(organization=organization_id, meeting=locked).delete()
        MeetingKey.objects.filter(organization=organization_id, meeting=locked).delete()
        MeetingParticipant.objects.filter(organization=organization_id, meeting=locked).delete()
        SessionInvite.objects.filter(organization=organization_id, meeting=locked).delete()
        locked.state = GroupMeeting.State.ENDED
        locked.outcome = outcome
        locked.ended_at = now
        locked.save(update_fields=["state", "outcome", "ended_at"])
        if actor is not None:
            audit_record(
                organization=locked.organization, actor=actor, action="live.end", target=locked
            )
        event = {"type": "live.ended", "meeting": locked.public_id.hex}
        broadcast_after_commit(meeting_group(locked), event)
        broadcast_after_commit(meeting_lobby_group(locked), event)
    return True


def meeting_sweep(*, meeting, grace_seconds, now=None):
    """End the meeting at its scheduled end; until then, let go of people gone past the grace.

    Someone let in whose last socket closed more than ``grace_seconds`` ago
    has left: coming back, she waits to be let in again. Run often, and by
    several sockets at once: ending is idempotent and leaving a conditional
    update. Returns "ended", "swept" or None.
    """
    now = now or timezone.now()
    if meeting.ends_at <= now:
        ended = meeting_end(meeting=meeting, outcome=GroupMeeting.Outcome.SCHEDULED, now=now)
        return "ended" if ended else None
    State = MeetingParticipant.State
    gone = MeetingParticipant.objects.filter(
        organization=meeting.organization_id,
        meeting=meeting,
        state__in=[State.ADMITTED, State.WAITING],
        sockets__lte=0,
        left_at__lte=now - datetime.timedelta(seconds=grace_seconds),
    ).update(state=State.LEFT)
    if gone:
        _broadcast_people(meeting)
        return "swept"
    return None


# Session invites: a sitting of a time-limited group, for someone who is not a member.


def session_invite_create(*, organization, actor, session, max_uses, now=None):
    """Create an invite to the session's next sitting; return it and its token (shown once)."""
    _check_organization(organization, session)
    now = now or timezone.now()
    group = session.group
    if group_agreement_current(organization=organization) is None:
        raise ValidationError(
            _("Publish the group agreement first: people accept it when they arrive.")
        )
    sitting = selectors.sitting_next(
        organization=organization, group=group, now=now, session=session
    )
    if sitting is None:
        raise ValidationError(_("This session will not meet again."))
    meeting = _meeting_for_sitting(organization, group, sitting)
    token = secrets.token_urlsafe(32)
    invite = SessionInvite.objects.create(
        organization=organization,
        meeting=meeting,
        token_hash=token_hash(token),
        created_by=actor,
        max_uses=max_uses,
    )
    audit_record(organization=organization, actor=actor, action="live.invite.create", target=invite)
    return invite, token


def session_invite_check(*, organization, token, lock=False, now=None):
    """Return the usable session invite for ``token`` with its meeting, or raise InviteError."""
    now = now or timezone.now()
    invites = SessionInvite.objects.filter(
        organization=organization, token_hash=token_hash(token or "")
    ).select_related("meeting", "meeting__group")
    if lock:
        invites = invites.select_for_update(of=("self",))
    invite = invites.first()
    if invite is None:
        raise InviteError(
            _(
                "This link does not work. Check that it was copied whole, or ask the "
                "person who sent it for a new one."
            ),
            code="unknown",
        )
    if invite.meeting.state == GroupMeeting.State.ENDED or invite.meeting.ends_at <= now:
        raise InviteError(_("This session has ended."), code="ended")
    if invite.uses >= invite.max_uses:
        raise InviteError(
            _(
                "This link has been used as many times as it allows. Ask the person who "
                "sent it for a new one."
            ),
            code="used_up",
        )
    return invite


# Participants


def _display_name_check(display_name):
    display_name = display_name_normalize(display_name)
    validate_display_name(display_name)
    # Facilitators are shown by their role: no one may appear as one.
    reserved = {str(_("Facilitator")).lower(), "facilitator", "animatrice", "animateur"}
    if display_name.lower() in reserved:
        raise ValidationError(_("This name is kept for facilitators. Choose another one."))
    return display_name


def participant_arrive(
    *,
    organization,
    group,
    display_name,
    agreement_version,
    member=None,
    invite_token="",
    known_participant_ids=(),
    now=None,
):
    """Put someone in the waiting room of the group's open meeting; return her participant row.

    She has chosen ``display_name`` and accepted ``agreement_version`` of the
    group agreement (recorded, version and time only). A time-limited group
    takes only its approved members (``member``) and holders of an invite to
    this sitting (``invite_token``, one use counted); a drop-in group takes
    anyone with its link. Someone this browser session already brought here
    (``known_participant_ids``), or the same member, is not seated twice: if
    she was turned away or removed, she is refused (codes ``refused``,
    ``removed``); if she left, she waits again.
    """
    now = now or timezone.now()
    display_name = _display_name_check(display_name)
    with transaction.atomic():
        invite = None
        if invite_token:
            invite = session_invite_check(
                organization=organization, token=invite_token, lock=True, now=now
            )
            meeting = invite.meeting
            if meeting.group_id != group.pk or not meeting.is_open_at(now):
                raise ValidationError(_("This group chat is not open right now."), code="closed")
        else:
            meeting = meeting_open(organization=organization, group=group, now=now)
            if meeting is None:
                raise ValidationError(_("This group chat is not open right now."), code="closed")
        if member is not None and (
            member.group_id != group.pk or member.state != GroupMember.State.APPROVED
        ):
            member = None
        State = MeetingParticipant.State
        known = Q(pk__in=[pk for pk in known_participant_ids if isinstance(pk, int)])
        if member is not None:
            known |= Q(member=member)
        seat = (
            MeetingParticipant.objects.select_for_update()
            .filter(known, organization=organization, meeting=meeting)
            .first()
        )
        if seat is not None and seat.state in (State.REFUSED, State.REMOVED):
            raise ValidationError(_("You cannot join this session again."), code=seat.state)
        if seat is not None and seat.state in (State.WAITING, State.ADMITTED):
            return seat
        if group.ends_on is not None and invite is None and member is None:
            raise ValidationError(
                _("This group is for its members and for people invited to this session."),
                code="members_only",
            )
        agreement = group_agreement_current(organization=organization)
        if agreement is None or agreement.version != agreement_version:
            raise ValidationError(
                _("The group agreement has just changed. Please read it again."),
                code="agreement",
            )
        try:
            with transaction.atomic():
                if seat is None:
                    seat = MeetingParticipant.objects.create(
                        organization=organization,
                        meeting=meeting,
                        display_name=display_name,
                        member=member,
                        arrived_at=now,
                        left_at=now,
                    )
                else:
                    seat.display_name = display_name
                    seat.state = State.WAITING
                    seat.left_at = now
                    seat.save(update_fields=["display_name", "state", "left_at"])
        except IntegrityError as error:
            raise ValidationError(
                _("Someone here already uses this name. Choose another one."), code="name_taken"
            ) from error
        consent_record(organization=organization, document=agreement)
        if invite is not None:
            invite.uses += 1
            invite.save(update_fields=["uses"])
        _broadcast_people(meeting)
    return seat


def participant_connect(*, participant, grace_seconds, now=None):
    """Count one more socket of hers; return her row as she now stands, or None once gone.

    Back within ``grace_seconds`` of her last socket closing, she is where
    she was; back later, or after she left, she waits to be let in again.
    """
    now = now or timezone.now()
    State = MeetingParticipant.State
    with transaction.atomic():
        seat = (
            MeetingParticipant.objects.select_for_update(of=("self",))
            .select_related("meeting")
            .filter(organization=participant.organization_id, pk=participant.pk)
            .first()
        )
        if seat is None or seat.state in (State.REFUSED, State.REMOVED):
            return seat
        away_since = seat.left_at if seat.sockets <= 0 else None
        lapsed = (
            away_since is not None and away_since + datetime.timedelta(seconds=grace_seconds) <= now
        )
        if seat.state == State.LEFT or (seat.state == State.ADMITTED and lapsed):
            seat.state = State.WAITING
        seat.sockets = max(seat.sockets, 0) + 1
        seat.left_at = None
        seat.save(update_fields=["state", "sockets", "left_at"])
        _broadcast_people(seat.meeting)
    return seat


def participant_disconnect(*, participant, now=None):
    """Count one socket of hers less; when the last one closes, the grace period starts."""
    now = now or timezone.now()
    rows = MeetingParticipant.objects.filter(
        organization=participant.organization_id, pk=participant.pk
    )
    with transaction.atomic():
        rows.update(sockets=F("sockets") - 1)
        rows.filter(sockets__lte=0).update(sockets=0, left_at=now)
        _broadcast_people(participant.meeting)


def _participant_change(*, organization, actor, participant, allowed, action, **changes):
    """Apply ``changes`` to a participant in one of the ``allowed`` states; audit it."""
    _check_organization(organization, participant)
    with transaction.atomic():
        # The meeting first, as meeting_end locks it before its participants.
        meeting = GroupMeeting.objects.select_for_update().get(
            organization=organization, pk=participant.meeting_id
        )
        if meeting.state == GroupMeeting.State.ENDED:
            raise LiveError("ended")
        seat = (
            MeetingParticipant.objects.select_for_update()
            .filter(organization=organization, pk=participant.pk)
            .first()
        )
        if seat is None or seat.state not in allowed:
            raise LiveError("changed")
        for field, value in changes.items():
            setattr(seat, field, value)
        seat.save(update_fields=list(changes))
        if actor is not None:
            audit_record(
                organization=organization,
                actor=actor,
                action=f"live.participant.{action}",
                target=seat,
            )
        _broadcast_people(meeting)
    return seat, meeting


def participant_admit(*, organization, actor, participant, now=None):
    """Let a waiting person into the room; she reads what is said from now on.

    Counted once in the meeting's attendance, however often she comes back.
    """
    now = now or timezone.now()
    State = MeetingParticipant.State
    with transaction.atomic():
        seat, meeting = _participant_change(
            organization=organization,
            actor=actor,
            participant=participant,
            allowed={State.WAITING},
            action="admit",
            state=State.ADMITTED,
        )
        if seat.admitted_at is None:
            seat.admitted_at = now
            seat.first_seq = meeting.next_seq - 1
            seat.save(update_fields=["admitted_at", "first_seq"])
            meeting.participant_count += 1
            meeting.save(update_fields=["participant_count"])
        broadcast_after_commit(participant_group(meeting, seat.pk), {"type": "live.admitted"})
    return seat


def participant_refuse(*, organization, actor, participant):
    """Turn a waiting person away: she is told, and cannot come back to this sitting."""
    State = MeetingParticipant.State
    seat, meeting = _participant_change(
        organization=organization,
        actor=actor,
        participant=participant,
        allowed={State.WAITING},
        action="refuse",
        state=State.REFUSED,
    )
    broadcast_after_commit(participant_group(meeting, seat.pk), {"type": "live.refused"})
    return seat


def participant_remove(*, organization, actor, participant):
    """Put someone out of the sitting: her sockets close and she cannot come back to it."""
    State = MeetingParticipant.State
    seat, meeting = _participant_change(
        organization=organization,
        actor=actor,
        participant=participant,
        allowed={State.WAITING, State.ADMITTED, State.LEFT},
        action="remove",
        state=State.REMOVED,
    )
    broadcast_after_commit(participant_group(meeting, seat.pk), {"type": "live.removed"})
    return seat


def participant_mute(*, organization, actor, participant, muted):
    """Pause (or allow again) a participant's messages; she can still read."""
    State = MeetingParticipant.State
    seat, meeting = _participant_change(
        organization=organization,
        actor=actor,
        participant=participant,
        allowed={State.ADMITTED},
        action="mute" if muted else "unmute",
        muted=muted,
    )
    broadcast_after_commit(
        participant_group(meeting, seat.pk), {"type": "live.muted", "muted": muted}
    )
    return seat


def participant_leave(*, participant):
    """Take her out of the room or the waiting room at her request; every tab of hers leaves."""
    State = MeetingParticipant.State
    seat, meeting = _participant_change(
        organization=participant.organization,
        actor=None,
        participant=participant,
        allowed={State.WAITING, State.ADMITTED},
        action="leave",
        state=State.LEFT,
    )
    broadcast_after_commit(participant_group(meeting, seat.pk), {"type": "live.left"})
    return seat


# The log: messages, the pinned resource, removals.


def _entry_seq(meeting, sender, client_id):
    return (
        MeetingMessage.objects.filter(
            organization=meeting.organization_id,
            meeting=meeting,
            sender=sender,
            client_id=client_id,
        )
        .values_list("seq", flat=True)
        .first()
    )


def _seq_take(meeting, now):
    """Lock the meeting and take its next sequence number; LiveError("ended") once past its end.

    One statement; a refusal after it rolls the number back with the transaction.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{GroupMeeting._meta.db_table}" SET next_seq = next_seq + 1 '  # noqa: S608
            "WHERE id = %s AND organization_id = %s RETURNING next_seq - 1, state, ends_at",
            [meeting.pk, meeting.organization_id],
        )
        seq, state, ends_at = cursor.fetchone()
    if state == GroupMeeting.State.ENDED or ends_at <= now:
        raise LiveError("ended")
    return seq


def _entry_broadcast(meeting, entry, name):
    broadcast_after_commit(
        meeting_group(meeting),
        {
            "type": "live.entry",
            "meeting": meeting.public_id.hex,
            "seq": entry.seq,
            "kind": entry.kind,
            "sender": entry.sender,
            "name": name,
            "client_id": entry.client_id,
            "ciphertext": base64.b64encode(bytes(entry.ciphertext)).decode(),
            "target": entry.target_seq,
        },
    )


def meeting_message_post(
    *, meeting, client_id, text, participant=None, staff=None, pin=False, key=None, now=None
):
    """Store a message under the meeting's next sequence number and relay it; return (seq, created).

    The author is a participant let in and not muted (``participant``) or a
    facilitator (``staff``), whose message may be the pinned resource
    (``pin``). A ``client_id`` its author already used is the same message
    sent again after a dropped connection: its first number is returned and
    nothing is stored or relayed twice. ``key`` is the meeting's key when the
    caller holds it already.
    """
    if (participant is None) == (staff is None) or (pin and staff is None):
        raise TypeError("a message has one author; only a facilitator pins")
    text = (text or "").strip()
    if not text:
        raise LiveError("empty")
    if len(text) > LIVE_MESSAGE_MAX_CHARS:
        raise LiveError("too_long")
    sender = f"p{participant.pk}" if participant else f"f{staff.pk}"
    try:
        return _entry_store(
            meeting=meeting,
            sender=sender,
            participant=participant,
            staff=staff,
            kind=MeetingMessage.Kind.PIN if pin else MeetingMessage.Kind.MESSAGE,
            client_id=client_id,
            text=text,
            key=key,
            now=now or timezone.now(),
        )
    except IntegrityError:
        # The same message, resent while its first copy was being stored.
        return _entry_seq(meeting, sender, client_id), False


@transaction.atomic
def _entry_store(*, meeting, sender, participant, staff, kind, client_id, text, key, now):
    existing = _entry_seq(meeting, sender, client_id)
    if existing is not None:
        return existing, False
    if participant is not None:
        state, muted = (
            MeetingParticipant.objects.filter(
                organization=meeting.organization_id, pk=participant.pk, meeting=meeting
            )
            .values_list("state", "muted")
            .first()
        ) or (None, False)
        if state != MeetingParticipant.State.ADMITTED:
            raise LiveError("not_admitted")
        if muted:
            raise LiveError("muted")
    seq = _seq_take(meeting, now)
    ciphertext = encrypt(
        key or meeting_key(meeting),
        text,
        selectors.meeting_associated_data(meeting.public_id.hex, seq),
    )
    entry = MeetingMessage.objects.create(
        organization_id=meeting.organization_id,
        meeting_id=meeting.pk,
        seq=seq,
        kind=kind,
        sender=sender,
        participant=participant,
        client_id=client_id,
        ciphertext=ciphertext,
    )
    _entry_broadcast(meeting, entry, participant.display_name if participant else "")
    if kind == MeetingMessage.Kind.PIN:
        audit_record(
            organization=meeting.organization,
            actor=staff,
            action="live.pin",
            target=entry,
        )
    return seq, True


def meeting_message_remove(*, meeting, actor, seq, now=None):
    """Remove a message (or the pinned resource) for everyone: its text is deleted at once.

    The removal takes its own place in the log, so that a socket resuming
    after it still learns of it. Returns the removal's sequence number.
    """
    now = now or timezone.now()
    Kind = MeetingMessage.Kind
    with transaction.atomic():
        # The meeting first, as meeting_end locks it before its log.
        removal_seq = _seq_take(meeting, now)
        target = (
            MeetingMessage.objects.select_for_update()
            .filter(
                organization=meeting.organization_id,
                meeting=meeting,
                seq=seq,
                kind__in=[Kind.MESSAGE, Kind.PIN],
                removed=False,
            )
            .first()
        )
        if target is None:
            raise LiveError("unknown")
        target.ciphertext = b""
        target.removed = True
        target.save(update_fields=["ciphertext", "removed"])
        removal = MeetingMessage.objects.create(
            organization_id=meeting.organization_id,
            meeting_id=meeting.pk,
            seq=removal_seq,
            kind=Kind.REMOVAL,
            sender=f"f{actor.pk}",
            client_id=f"remove:{seq}",
            target_seq=seq,
        )
        audit_record(
            organization=meeting.organization,
            actor=actor,
            action="live.message.remove",
            target=target,
        )
        _entry_broadcast(meeting, removal, "")
    return removal_seq
