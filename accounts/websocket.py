"""The WebSocket side of tenancy and staff authentication.

Channels runs none of Django's HTTP middleware, so the organization, the
origin check and the verified second factor are established here again.
"""

from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import is_verified
from django_otp.models import Device

from accounts.middleware import staff_session_expired
from accounts.tenancy import host_name, is_platform_host, organization_for_host
from policies.tenancy import activate, person_context


def _header(scope, name):
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


@database_sync_to_async
def _organization_and_hostnames(domain):
    organization = organization_for_host(domain)
    if organization is None:
        return None, set()
    return organization, set(organization.hostnames.values_list("hostname", flat=True))


class TenantWebsocketMiddleware:
    """Resolve the organization from the Host header; refuse foreign origins.

    A handshake whose Origin is not one of the organization's own hostnames
    (with the scheme the site is served on) is refused before any consumer runs.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        domain = host_name(_header(scope, b"host"))
        if is_platform_host(domain):
            return await WebsocketDenier()(scope, receive, send)
        activate(None, host=domain)
        organization, hostnames = await _organization_and_hostnames(domain)
        origin = urlsplit(_header(scope, b"origin"))
        expected_scheme = "https" if settings.HTTPS else "http"
        if (
            organization is None
            or origin.scheme != expected_scheme
            or (origin.hostname or "") not in hostnames
        ):
            activate(None)
            return await WebsocketDenier()(scope, receive, send)
        activate(organization)
        return await self.app({**scope, "organization": organization}, receive, send)


@database_sync_to_async
def _verify(scope):
    user = scope["user"]
    user.otp_device = None
    user.is_verified = lambda: is_verified(user)
    if not user.is_authenticated or staff_session_expired(scope["session"], scope["organization"]):
        return
    persistent_id = scope["session"].get(DEVICE_ID_SESSION_KEY)
    with person_context(user):
        device = Device.from_persistent_id(persistent_id) if persistent_id else None
    if device is not None and device.user_id == user.pk and device.confirmed:
        user.otp_device = device


class OTPWebsocketMiddleware:
    """Give ``scope["user"]`` django-otp's ``is_verified()``, as OTPMiddleware does for HTTP."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        await _verify(scope)
        return await self.app(scope, receive, send)
