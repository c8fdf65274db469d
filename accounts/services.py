"""Changes to organizations, their hostnames and their staff.

Every function checks that what it touches belongs to the organization it is
given, and records the change in the audit log.
"""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    AuthenticatorDevice,
    BackupCodeDevice,
    Invitation,
    Membership,
    Organization,
    OrganizationHostname,
    Role,
)
from policies.services import audit_record
from policies.tenancy import organization_context


class InvitationError(ValidationError):
    """An invitation link that cannot be used; the message says why, plainly."""


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def _clean_roles(roles):
    unknown = set(roles) - set(Role.values)
    if unknown or not roles:
        raise ValidationError(_("Choose at least one known role."))
    return [role for role in Role.values if role in roles]


def invitation_create(*, organization, created_by, roles, note=""):
    """Create a single-use staff invitation; return it and its token (shown once)."""
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization=organization,
        token_hash=token_hash(token),
        roles=_clean_roles(roles),
        note=note,
        created_by=created_by,
        expires_at=timezone.now() + datetime.timedelta(hours=settings.STAFF_INVITATION_VALID_HOURS),
    )
    audit_record(
        organization=organization, actor=created_by, action="invitation.create", target=invitation
    )
    return invitation, token


def invitation_check(*, organization, token):
    """Return the usable invitation for ``token`` in ``organization`` or raise InvitationError."""
    invitation = Invitation.objects.filter(
        organization=organization, token_hash=token_hash(token or "")
    ).first()
    if invitation is None:
        raise InvitationError(_("This invitation link is not valid."))
    if invitation.revoked_at is not None:
        raise InvitationError(_("This invitation was withdrawn."))
    if invitation.used_at is not None:
        raise InvitationError(_("This invitation has already been used."))
    if invitation.expires_at <= timezone.now():
        raise InvitationError(_("This invitation has expired. Ask for a new one."))
    return invitation


@transaction.atomic
def invitation_accept(*, organization, token, username, password, existing_user=None):
    """Use an invitation: join with ``existing_user`` or create a new account.

    The invitation is locked and marked used in the same transaction, so two
    people cannot both use one link.
    """
    invitation = invitation_check(organization=organization, token=token)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.used_at is not None:
        raise InvitationError(_("This invitation has already been used."))
    user = existing_user
    if user is None:
        User = get_user_model()
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(_("This username is taken. If it is yours, sign in first."))
        user = User.objects.create_user(username=username, password=password)
    membership, created = Membership.objects.get_or_create(
        organization=organization, user=user, defaults={"roles": invitation.roles}
    )
    if not created:
        membership.roles = sorted(set(membership.roles) | set(invitation.roles))
        membership.is_active = True
        membership.save(update_fields=["roles", "is_active"])
    invitation.used_at = timezone.now()
    invitation.save(update_fields=["used_at"])
    audit_record(
        organization=organization, actor=user, action="invitation.accept", target=invitation
    )
    return membership


def invitation_revoke(*, organization, actor, invitation):
    if invitation.organization_id != organization.pk:
        raise PermissionDenied
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        organization=organization, actor=actor, action="invitation.revoke", target=invitation
    )


def membership_update(*, organization, actor, membership, roles, is_active):
    """Change a staff member's roles, or disable her: her sessions end at once."""
    if membership.organization_id != organization.pk:
        raise PermissionDenied
    if membership.user_id == actor.pk and Role.ORG_ADMIN not in roles:
        raise ValidationError(_("You cannot remove your own admin role."))
    membership.roles = _clean_roles(roles)
    membership.is_active = is_active
    membership.save(update_fields=["roles", "is_active"])
    audit_record(
        organization=organization, actor=actor, action="membership.update", target=membership
    )
    if not is_active:
        from accounts.consumers import staff_disconnect

        staff_disconnect(organization=organization, user_id=membership.user_id)
    return membership


def organization_settings_update(*, organization, actor, form):
    """Save a validated settings form of ``organization`` and audit it.

    A new safe word is kept only as its keyed digest (see conversations.casework).
    """
    if form.instance.pk != organization.pk:
        raise PermissionDenied
    from conversations.casework import safe_word_digest

    if form.cleaned_data.get("safe_word", "").strip():
        form.instance.safe_word_digest = safe_word_digest(form.cleaned_data["safe_word"])
    form.save()
    audit_record(
        organization=organization, actor=actor, action="settings.update", target=organization
    )


def organization_formset_save(*, organization, actor, formset, action):
    """Save a validated formset of the organization's rows (hours, closures)."""
    rows = formset.save(commit=False)
    for row in rows:
        row.organization = organization
        row.save()
    for row in formset.deleted_objects:
        if row.organization_id == organization.pk:
            row.delete()
    audit_record(organization=organization, actor=actor, action=action, target=organization)


# The platform operator's actions. Each enters the organization explicitly:
# the operator belongs to no organization.


def organization_create(*, actor, slug, name, hostname, languages):
    with transaction.atomic():
        organization = Organization.objects.create(
            slug=slug, name=name, public_name=name, languages=languages
        )
        with organization_context(organization):
            OrganizationHostname.objects.create(organization=organization, hostname=hostname)
            audit_record(
                organization=organization,
                actor=actor,
                action="organization.create",
                target=organization,
            )
    return organization


def organization_set_active(*, actor, organization, is_active):
    organization.is_active = is_active
    organization.save(update_fields=["is_active"])
    with organization_context(organization):
        audit_record(
            organization=organization,
            actor=actor,
            action="organization.activate" if is_active else "organization.suspend",
            target=organization,
        )


def hostname_add(*, actor, organization, hostname):
    with organization_context(organization):
        try:
            with transaction.atomic():
                row = OrganizationHostname.objects.create(
                    organization=organization, hostname=hostname
                )
        except IntegrityError as error:
            raise ValidationError(_("This hostname is already in use.")) from error
        audit_record(organization=organization, actor=actor, action="hostname.add", target=row)
    return row


def hostname_remove(*, actor, organization, hostname_id):
    with organization_context(organization):
        row = OrganizationHostname.objects.filter(organization=organization, pk=hostname_id).first()
        if row is None:
            raise PermissionDenied
        audit_record(organization=organization, actor=actor, action="hostname.remove", target=row)
        row.delete()


def first_admin_invite(*, actor, organization, note=""):
    with organization_context(organization):
        return invitation_create(
            organization=organization, created_by=actor, roles=[Role.ORG_ADMIN], note=note
        )


# Two-factor: every staff account and the operator enroll TOTP, with backup codes.
# Devices are readable only as their owner: callers run as her (the request does).


def totp_device_create(*, user, confirmed=False):
    """Create a TOTP device for ``user`` with a new random secret, sealed."""
    device = AuthenticatorDevice(user=user, name="authenticator", confirmed=confirmed)
    device.secret_seal(secrets.token_bytes(20))
    device.save()
    return device


def totp_device_pending(*, user):
    """Return the user's unconfirmed TOTP device, creating it on first use."""
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=False).first()
    return device or totp_device_create(user=user)


@transaction.atomic
def totp_device_confirm(*, user, token):
    """Confirm the pending device with a code from it; return it and new backup codes."""
    device = totp_device_pending(user=user)
    if not device.verify_token(token):
        raise ValidationError(_("That code did not match. Check your device's clock and retry."))
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    AuthenticatorDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    return device, backup_codes_replace(user=user)


def backup_codes_replace(*, user):
    """Replace the user's backup codes with new single-use ones; return them (shown once)."""
    device, _created = BackupCodeDevice.objects.get_or_create(user=user, name="backup codes")
    codes = device.codes_replace()
    device.save(update_fields=["code_hashes"])
    return codes


def user_has_two_factor(user):
    return AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists()
