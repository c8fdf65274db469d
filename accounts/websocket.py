"""The WebSocket side of tenancy and staff authentication.

Channels runs none of Django's HTTP middleware, so the organization, the
origin check and the verified second factor are established here again.
"""

from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import is_verified
from django_otp.models import Device

from accounts.middleware import session_made_here, staff_session_expired
from accounts.tenancy import host_name, is_platform_host, organization_for_host
from policies.tenancy import activate


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


DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(scheme, hostname, port):
    """Return ``(scheme, hostname, port)`` with the scheme's default port filled in."""
    return scheme, hostname, port or DEFAULT_PORTS.get(scheme)


def served_origins(host_header, hostnames):
    """Return the origins an organization's pages are served on, as seen by this handshake.

    The scheme is the platform's (``HTTPS``); the port is the one the browser
    put in its ``Host`` header, the one its pages were reached on.
    """
    scheme = "https" if settings.HTTPS else "http"
    try:
        port = urlsplit(f"//{host_header}").port
    except ValueError:
        return set()
    return {_origin(scheme, hostname, port) for hostname in hostnames}


def origin_of(header):
    """Return the ``(scheme, hostname, port)`` of an ``Origin`` header, or None if malformed."""
    origin = urlsplit(header)
    try:
        port = origin.port
    except ValueError:
        return None
    if not origin.hostname or origin.path or origin.query or origin.username:
        return None
    return _origin(origin.scheme, origin.hostname, port)


class TenantWebsocketMiddleware:
    """Resolve the organization from the Host header; refuse foreign origins.

    A handshake whose Origin (scheme, host and port) is not one the
    organization's pages are served on is refused before any consumer runs.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        host = _header(scope, b"host")
        domain = host_name(host)
        if is_platform_host(domain):
            return await WebsocketDenier()(scope, receive, send)
        activate(None, host=domain)
        organization, hostnames = await _organization_and_hostnames(domain)
        if organization is None or origin_of(_header(scope, b"origin")) not in served_origins(
            host, hostnames
        ):
            activate(None)
            return await WebsocketDenier()(scope, receive, send)
        activate(organization)
        return await self.app({**scope, "organization": organization}, receive, send)


@database_sync_to_async
def _verify(scope):
    if not session_made_here(scope["session"], scope["organization"]):
        scope["user"] = AnonymousUser()
    user = scope["user"]
    user.otp_device = None
    user.is_verified = lambda: is_verified(user)
    if not user.is_authenticated or staff_session_expired(scope["session"], scope["organization"]):
        return
    persistent_id = scope["session"].get(DEVICE_ID_SESSION_KEY)
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
