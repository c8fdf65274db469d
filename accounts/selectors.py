"""Reads of organizations' staff and settings, each scoped to one organization."""

import datetime

from django.http import Http404
from django.utils import timezone

from accounts.models import Closure, Invitation, Membership, OpeningHours, Role


def membership_get(*, organization, user):
    """Return the user's active membership in ``organization``, or None."""
    if organization is None or not user.is_authenticated or not user.is_active:
        return None
    return Membership.objects.filter(organization=organization, user=user, is_active=True).first()


def organization_has_admin(*, organization, ever=False):
    """Return True when an active account holds the admin role in ``organization``.

    With ``ever``, disabled memberships and accounts count too.
    """
    memberships = Membership.objects.filter(organization=organization)
    if not ever:
        memberships = memberships.filter(is_active=True, user__is_active=True)
    return any(membership.has_role(Role.ORG_ADMIN) for membership in memberships)


def membership_list(*, organization):
    return Membership.objects.filter(organization=organization).select_related("user")


def access_membership(*, organization, membership_id):
    """Return the organization's membership ``membership_id``; 404 if absent or another's."""
    membership = membership_list(organization=organization).filter(pk=membership_id).first()
    if membership is None:
        raise Http404
    return membership


def invitation_list(*, organization):
    return Invitation.objects.filter(organization=organization)


def access_invitation(*, organization, invitation_id):
    invitation = invitation_list(organization=organization).filter(pk=invitation_id).first()
    if invitation is None:
        raise Http404
    return invitation


def opening_hours_list(*, organization):
    return OpeningHours.objects.filter(organization=organization)


def closure_list(*, organization):
    return Closure.objects.filter(organization=organization)


def organization_is_open(*, organization, at=None):
    """Return True when the organization's chat is staffed at ``at`` (now by default).

    Closed during an announced outage, on a closure day, and outside the
    weekly hours, all read in the organization's time zone.
    """
    if organization.outage_banner.strip():
        return False
    local = timezone.localtime(at or timezone.now(), organization.tz)
    if (
        closure_list(organization=organization)
        .filter(starts_on__lte=local.date(), ends_on__gte=local.date())
        .exists()
    ):
        return False
    for hours in opening_hours_list(organization=organization).filter(weekday=local.weekday()):
        closes = hours.closes_at if hours.closes_at != datetime.time(0, 0) else datetime.time.max
        if hours.opens_at <= local.time() < closes:
            return True
    return False
