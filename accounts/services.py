"""Changes to organizations, their hostnames and their staff.

Every function checks that what it touches belongs to the organization it is
given, and records the change in the audit log.
"""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import match_token

from accounts.models import (
    AuthenticatorDevice,
    BackupCodeDevice,
    Invitation,
    Membership,
    Organization,
    OrganizationHostname,
    Role,
)
from accounts.selectors import organization_has_admin
from policies.services import audit_record
from policies.tenancy import organization_context, person_context


class InvitationError(ValidationError):
    """An invitation link that cannot be used; the message says why, plainly."""


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def _clean_roles(roles):
    unknown = set(roles) - set(Role.values)
    if unknown or not roles:
        raise ValidationError(_("Choose at least one known role."))
    return [role for role in Role.values if role in roles]


def invitation_create(
    *, organization, created_by, roles, note="", purpose=Invitation.Purpose.STAFF
):
    """Create a single-use staff invitation; return it and its token (shown once)."""
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization=organization,
        token_hash=token_hash(token),
        roles=_clean_roles(roles),
        note=note,
        purpose=purpose,
        created_by=created_by,
        expires_at=timezone.now() + datetime.timedelta(hours=settings.STAFF_INVITATION_VALID_HOURS),
    )
    audit_record(
        organization=organization, actor=created_by, action="invitation.create", target=invitation
    )
    return invitation, token


def invitation_check(*, organization, token):
    """Return the usable invitation for ``token`` in ``organization`` or raise InvitationError.

    An invitation from the platform makes an admin only while the
    organization has none.
    """
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
    if invitation.is_from_platform and organization_has_admin(organization=organization):
        raise InvitationError(
            _("This invitation is no longer valid: the organization has an admin.")
        )
    return invitation


def _invitation_use(*, organization, token, user):
    """Lock the invitation, give ``user`` its roles here and mark it used.

    Return the organization's new recovery code when the invitation came
    from the platform (shown once, to the admin it made), else None.
    """
    invitation = invitation_check(organization=organization, token=token)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.used_at is not None:
        raise InvitationError(_("This invitation has already been used."))
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
    if invitation.is_from_platform:
        return recovery_code_replace(organization=organization, actor=user)
    return None


def staff_username(*, organization, name):
    """Return the username of a new account: the chosen name within the organization.

    Names chosen through one organization's invitations end with its short
    name, so whether a name is taken can only be learnt of that organization.
    """
    return f"{name}@{organization.slug}"


def account_pending_create(*, organization, name, password):
    """Create the account a new staff member enrols her second factor on.

    It stays inactive (no sign-in, no membership) until her enrolment is
    confirmed by ``invitation_accept_new``.
    """
    User = get_user_model()
    username = staff_username(organization=organization, name=name)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(_("This username is already used here. Choose another."))
    return User.objects.create_user(username=username, password=password, is_active=False)


def account_pending_get(*, user_id):
    """Return the not-yet-enrolled account ``user_id``, or None."""
    user = get_user_model().objects.filter(pk=user_id, is_active=False).first()
    if user is None or user_has_two_factor(user):
        return None
    return user


@transaction.atomic
def invitation_accept_new(*, organization, token, user, code):
    """Confirm a new account's second factor with ``code`` and use the invitation.

    The invitation is consumed only here, once enrolment is confirmed; it is
    locked, so two people cannot both use one link. Return the device, the
    backup codes and the recovery code (or None), each shown once.
    """
    # She is not signed in yet: her devices are read and written as her.
    with person_context(user):
        device, codes = totp_device_confirm(user=user, token=code)
    user.is_active = True
    user.save(update_fields=["is_active"])
    recovery_code = _invitation_use(organization=organization, token=token, user=user)
    return device, codes, recovery_code


@transaction.atomic
def invitation_accept_existing(*, organization, token, username, password, code):
    """Join with an account already on another organization's staff, proven by both factors.

    A wrong username, password or code, or an account that may not join, all
    get the same answer. Return the user, the device and the recovery code (or None).
    """
    user = authenticate(username=username, password=password)
    device = None
    if user is not None and not user.is_operator:
        with person_context(user):
            device = match_token(user, code.replace(" ", ""))
    if device is None:
        raise ValidationError(
            _("These details do not match an account. Check them, or make a new account.")
        )
    recovery_code = _invitation_use(organization=organization, token=token, user=user)
    return user, device, recovery_code


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


def _platform_admin_invite(*, actor, organization, purpose):
    """Invite an admin from the platform, withdrawing any earlier such link still open.

    Only one invitation from the platform is usable at a time, so the operator
    cannot keep a spare for herself.
    """
    Invitation.objects.filter(
        organization=organization,
        purpose__in=[Invitation.Purpose.FIRST_ADMIN, Invitation.Purpose.RECOVERY_ADMIN],
        used_at=None,
        revoked_at=None,
    ).update(revoked_at=timezone.now())
    return invitation_create(
        organization=organization, created_by=actor, roles=[Role.ORG_ADMIN], purpose=purpose
    )


def first_admin_invite(*, actor, organization):
    """Invite the organization's first admin; refused once it has had one.

    After that only its own admins invite staff, and the platform can make an
    admin again only with the organization's recovery code.
    """
    with organization_context(organization):
        if organization.recovery_code_hash or organization_has_admin(
            organization=organization, ever=True
        ):
            raise PermissionDenied
        return _platform_admin_invite(
            actor=actor, organization=organization, purpose=Invitation.Purpose.FIRST_ADMIN
        )


def recovery_admin_invite(*, actor, organization, recovery_code):
    """Invite an admin to an organization that has none left, with its recovery code.

    The code is the organization's consent: only its admins were shown it.
    The recovery goes into the organization's own audit log, where its
    admins see it; the new admin's acceptance replaces the code.
    """
    with organization_context(organization):
        if organization_has_admin(organization=organization):
            raise PermissionDenied
        if not organization.recovery_code_hash or not check_password(
            recovery_code.strip().upper(), organization.recovery_code_hash
        ):
            raise ValidationError(_("This is not the organization's recovery code."))
        invitation, token = _platform_admin_invite(
            actor=actor, organization=organization, purpose=Invitation.Purpose.RECOVERY_ADMIN
        )
        audit_record(
            organization=organization, actor=actor, action="admin.recovery", target=invitation
        )
        return invitation, token


def recovery_code_replace(*, organization, actor):
    """Give the organization a new recovery code; return it (shown once). Only its hash is kept."""
    code = "-".join(secrets.token_hex(4).upper() for _ in range(5))
    organization.recovery_code_hash = make_password(code)
    organization.save(update_fields=["recovery_code_hash"])
    audit_record(
        organization=organization, actor=actor, action="recovery_code.replace", target=organization
    )
    return code


# Two-factor: every staff account and the operator enroll TOTP, with backup codes.
# Devices are readable only as their owner: callers run as her (the request does).


def totp_device_create(*, user, confirmed=False):
    """Create a TOTP device for ``user`` with a new random secret, sealed."""
    device = AuthenticatorDevice(user=user, name="authenticator", confirmed=confirmed)
    device.secret_seal(secrets.token_bytes(20))
    device.save()
    return device


def totp_device_pending(*, user):
    """Return the user's unconfirmed TOTP device, creating it on first use (as her)."""
    with person_context(user):
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


@transaction.atomic
def operator_create(*, username, password):
    """Create a platform operator with a confirmed TOTP device; return it and backup codes."""
    User = get_user_model()
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(_("This username is taken."))
    user = User.objects.create_user(username=username, password=password, is_operator=True)
    with person_context(user):
        device = totp_device_pending(user=user)
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return device, backup_codes_replace(user=user)


def backup_codes_replace(*, user):
    """Replace the user's backup codes with new single-use ones; return them (shown once)."""
    device, _created = BackupCodeDevice.objects.get_or_create(user=user, name="backup codes")
    codes = device.codes_replace()
    device.save(update_fields=["code_hashes"])
    return codes


def user_has_two_factor(user):
    """Return True when ``user`` has a confirmed authenticator; asked before she signs in too."""
    with person_context(user):
        return AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists()
