"""Changes to the support forums.

Every function is given the organization (from the request's host) and
refuses anything that belongs to another. Moderators' actions are recorded
in the audit log, by type and id only. A survivor's own actions (asking to
join, posting, leaving) are not staff actions and leave no entry.
"""

import datetime
import secrets
import unicodedata

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import token_hash
from groups.models import GroupInvite, GroupMember, Post, PostReport, SupportGroup
from policies.crypto import encrypt
from policies.keys import organization_data_key
from policies.models import ConsentDocument
from policies.pseudonyms import validate_display_name
from policies.selectors import consent_document_current
from policies.services import audit_record, consent_record

SIGN_IN_ATTEMPTS = 5
SIGN_IN_LOCK_MINUTES = 15
GROUP_FIELDS = ("name", "purpose", "facilitation", "ends_on", "moderation", "post_retention_days")


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


def _group_fields(fields):
    unknown = set(fields) - set(GROUP_FIELDS)
    if unknown:
        raise TypeError(f"not a group field: {', '.join(sorted(unknown))}")
    return fields


def support_group_create(*, organization, actor, **fields):
    group = SupportGroup(organization=organization, **_group_fields(fields))
    group.full_clean()
    group.save()
    audit_record(organization=organization, actor=actor, action="forum.group.create", target=group)
    return group


def support_group_update(*, organization, actor, group, **fields):
    _check_organization(organization, group)
    for name, value in _group_fields(fields).items():
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
