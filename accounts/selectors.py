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


def closure_on(*, organization, day):
    """Return the closure that covers ``day`` (a local date), or None."""
    return (
        closure_list(organization=organization).filter(starts_on__lte=day, ends_on__gte=day).first()
    )


def _closes(hours):
    # Closing at 00:00 means open until midnight.
    return hours.closes_at if hours.closes_at != datetime.time(0, 0) else datetime.time.max


def organization_is_open(*, organization, at=None):
    """Return True when the organization's chat is within its hours at ``at`` (now by default).

    Closed during an announced outage, on a closure day, and outside the
    weekly hours, all read in the organization's time zone.
    """
    if organization.outage_banner.strip():
        return False
    local = timezone.localtime(at or timezone.now(), organization.tz)
    if closure_on(organization=organization, day=local.date()) is not None:
        return False
    return any(
        hours.opens_at <= local.time() < _closes(hours)
        for hours in opening_hours_list(organization=organization).filter(weekday=local.weekday())
    )


def chat_reopens_at(*, organization, at=None, days_ahead=31):
    """Return when the weekly hours next open chat after ``at``, past any closure, or None.

    During an outage there is no answer: it has no announced end, and the
    page shows its banner instead. The answer is in the organization's time zone.
    """
    if organization.outage_banner.strip():
        return None
    local = timezone.localtime(at or timezone.now(), organization.tz)
    rows = list(opening_hours_list(organization=organization))
    closures = list(closure_list(organization=organization).filter(ends_on__gte=local.date()))
    for offset in range(days_ahead + 1):
        day = local.date() + datetime.timedelta(days=offset)
        if any(closure.starts_on <= day <= closure.ends_on for closure in closures):
            continue
        for hours in sorted(
            (row for row in rows if row.weekday == day.weekday()), key=lambda row: row.opens_at
        ):
            opens = datetime.datetime.combine(day, hours.opens_at, tzinfo=organization.tz)
            closes = datetime.datetime.combine(day, _closes(hours), tzinfo=organization.tz)
            if closes > local:
                return max(opens, local)
    return None


def weekly_hours(*, organization):
    """Return the week's hours as (day name, that day's rows, whether it is open all day)."""
    rows = opening_hours_list(organization=organization)
    week = []
    for weekday, label in OpeningHours.Weekday.choices:
        spans = [row for row in rows if row.weekday == weekday]
        if spans:
            all_day = any(row.opens_at == datetime.time(0) == row.closes_at for row in spans)
            week.append((label, spans, all_day))
    return week
