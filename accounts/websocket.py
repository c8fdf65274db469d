"""The WebSocket side of tenancy and staff authentication.

Channels runs none of Django's HTTP middleware, so the organization, the
origin check, the session's host, the verified second factor and the
session's time limits are established here again.
"""

import asyncio
import time
from importlib import import_module
from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import is_verified
from django_otp.models import Device

from accounts.consumers import CLOSE_ACCESS_ENDED
from accounts.middleware import (
    SESSION_SEEN_KEY,
    session_made_here,
    staff_session_deadline,
    staff_session_expired,
)
from accounts.tenancy import host_name, is_platform_host, organization_for_host
from policies.tenancy import activate, person_context
from shelterchat.consumers import db


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


# A socket's frames are the person at work (a chat is typed over its socket),
# so they keep her session alive as a page request does; recording that costs
# a write, made at most this often.
ACTIVITY_RECORD_SECONDS = 10


def _session_deadline(scope, *, active):
    """Reload the socket's session; return when it ends, or None when it has ended.

    With ``active``, record the socket's activity as a page request would.
    """
    session = import_module(settings.SESSION_ENGINE).SessionStore(scope["session"].session_key)
    if session.get(SESSION_KEY) != str(scope["user"].pk) or not session_made_here(
        session, scope["organization"]
    ):
        return None
    deadline = staff_session_deadline(session, scope["organization"])
    if deadline is None or deadline < time.time():
        return None
    if active:
        session[SESSION_SEEN_KEY] = time.time()
        session.save()
        deadline = staff_session_deadline(session, scope["organization"])
    return deadline


class SessionWatch:
    """The receive and send of one signed-in socket, which end when its session does.

    The session is read again when its deadline comes (a page request may
    have moved it) and on a frame once ``ACTIVITY_RECORD_SECONDS`` have passed;
    an ended session closes the socket and tells the consumer it disconnected.
    """

    def __init__(self, scope, receive, send):
        self.scope = scope
        self.upstream_receive = receive
        self.upstream_send = send
        # The consumer decides the handshake (it refuses an unverified session);
        # the watch starts once the handshake has arrived.
        self.deadline = None
        self.recorded = 0
        self.pending = None
        self.ended = False

    async def receive(self):
        while True:
            if self.pending is None:
                self.pending = asyncio.ensure_future(self.upstream_receive())
            wait = None if self.deadline is None else max(self.deadline - time.time(), 0)
            done, _ = await asyncio.wait({self.pending}, timeout=wait)
            if not done:
                if await self.still_open(active=False):
                    continue
                return await self.end()
            message = self.pending.result()
            self.pending = None
            if message["type"] == "websocket.connect":
                session = self.scope["session"]
                self.deadline = staff_session_deadline(session, self.scope["organization"]) or 0
                self.recorded = session.get(SESSION_SEEN_KEY, 0)
            if message["type"] != "websocket.receive" or await self.still_open(active=True):
                return message
            return await self.end()

    async def still_open(self, *, active):
        now = time.time()
        if now < self.deadline and not (active and now - self.recorded >= ACTIVITY_RECORD_SECONDS):
            return True
        self.deadline = await db(_session_deadline)(self.scope, active=active)
        if active:
            self.recorded = now
        return self.deadline is not None

    async def end(self):
        self.ended = True
        await self.upstream_send({"type": "websocket.close", "code": CLOSE_ACCESS_ENDED})
        return {"type": "websocket.disconnect", "code": CLOSE_ACCESS_ENDED}

    async def send(self, message):
        if not self.ended:
            await self.upstream_send(message)

    def stop(self):
        if self.pending is not None:
            self.pending.cancel()


class StaffSessionWebsocketMiddleware:
    """Close a signed-in socket as soon as its session ends: idle, past its limit, or signed out.

    Signing out also closes the person's sockets through the channel layer
    (accounts.consumers.staff_disconnect), at once and on every process.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if not scope["user"].is_authenticated:
            return await self.app(scope, receive, send)
        watch = SessionWatch(scope, receive, send)
        try:
            return await self.app(scope, watch.receive, watch.send)
        finally:
            watch.stop()
