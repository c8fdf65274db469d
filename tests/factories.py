"""Build test data through the project's own services, inside the right tenant."""

import itertools
import time

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.middleware import (
    SESSION_ORGANIZATION_KEY,
    SESSION_SEEN_KEY,
    SESSION_STARTED_KEY,
    session_organization_id,
)
from accounts.models import (
    AuthenticatorDevice,
    Membership,
    Organization,
    OrganizationHostname,
    User,
)
from accounts.services import totp_device_create
from policies.tenancy import organization_context, person_context

_counter = itertools.count(1)


def organization_create(slug, hostname=None, **fields):
    """Create an organization reached at ``hostname`` (``<slug>.test`` by default)."""
    fields = {
        "name": slug.title(),
        "public_name": slug.title(),
        "languages": ["en", "fr"],
        **fields,
    }
    organization = Organization.objects.create(slug=slug, **fields)
    with organization_context(organization):
        OrganizationHostname.objects.create(
            organization=organization, hostname=hostname or f"{slug}.test"
        )
    return organization


def host_of(organization):
    return f"{organization.slug}.test"


def staff_create(organization, roles, username=None, with_device=True):
    """Create a staff member of ``organization`` with ``roles`` and, by default, a TOTP device."""
    user = User.objects.create_user(
        username=username or f"staff{next(_counter)}", password="correct horse battery staple"
    )
    with organization_context(organization):
        Membership.objects.create(organization=organization, user=user, roles=list(roles))
    if with_device:
        with person_context(user):
            totp_device_create(user=user, confirmed=True)
    return user


def membership_add(organization, user, roles):
    """Give an existing staff account a membership in another organization too."""
    with organization_context(organization):
        return Membership.objects.create(organization=organization, user=user, roles=list(roles))


def authenticator_of(user, confirmed=True):
    """Return the user's TOTP device, read as her (no one else can)."""
    with person_context(user):
        return AuthenticatorDevice.objects.get(user=user, confirmed=confirmed)


def totp_now(device):
    return f"{device.totp().token():06d}"


def client_for(organization, user=None, verified=True, host=None):
    """Return a test client on the organization's host (the platform's with None)."""
    from django.conf import settings

    host = host or (host_of(organization) if organization else settings.PLATFORM_DOMAIN)
    client = Client(HTTP_HOST=host)
    if user is not None:
        client.force_login(user)
        session = client.session
        session[SESSION_ORGANIZATION_KEY] = session_organization_id(organization)
        session[SESSION_STARTED_KEY] = session[SESSION_SEEN_KEY] = time.time()
        if verified:
            session[DEVICE_ID_SESSION_KEY] = authenticator_of(user).persistent_id
        session.save()
    return client
