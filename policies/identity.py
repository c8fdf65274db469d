"""What identifies a survivor's device or network, removed before any code sees it.

No IP address or user agent is stored or logged anywhere. Rather than trust
every logger, middleware and error page to ignore them, both the ASGI
application and the Django middleware chain drop them from each request at
the door.

The address is first turned into ``scope["client_bucket"]``: a keyed hash
whose key changes every hour, for abuse limits kept in the cache with an
expiry (conversations.abuse). It cannot be turned back into the address, and
the next hour's hash of the same address is unrelated.
"""

import hashlib
import hmac
import time

from django.conf import settings

# Header names as they appear in an ASGI scope (lower-case bytes).
CLIENT_IDENTITY_HEADERS = frozenset(
    {
        b"user-agent",
        b"x-forwarded-for",
        b"x-real-ip",
        b"forwarded",
        b"true-client-ip",
        b"cf-connecting-ip",
        b"sec-ch-ua",
        b"sec-ch-ua-platform",
        b"sec-ch-ua-mobile",
    }
)

# The same, as keys of a WSGI/Django ``request.META``.
CLIENT_IDENTITY_META_KEYS = frozenset(
    {"REMOTE_ADDR", "REMOTE_HOST", "REMOTE_PORT"}
    | {"HTTP_" + name.decode().upper().replace("-", "_") for name in CLIENT_IDENTITY_HEADERS}
)


def client_bucket(address, now=None):
    """Return an hour-long keyed hash of ``address`` (empty when there is none)."""
    if not address:
        return ""
    hour = int((time.time() if now is None else now) // 3600)
    key = hashlib.sha256(f"client-bucket:{hour}:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:32]


def _client_address(scope):
    header = settings.PROXY_CLIENT_ADDRESS_HEADER
    if header:
        for name, value in scope.get("headers", []):
            if name.lower() == header:
                # The proxy appends the address it saw last.
                return value.decode("latin-1").split(",")[-1].strip()
    client = scope.get("client")
    return client[0] if client else ""


def scope_without_client_identity(scope):
    """Return a copy of an ASGI scope without the client's address and identifying headers."""
    headers = [
        (name, value)
        for name, value in scope.get("headers", [])
        if name.lower() not in CLIENT_IDENTITY_HEADERS
    ]
    bucket = client_bucket(_client_address(scope))
    return {**scope, "client": None, "headers": headers, "client_bucket": bucket}


class ClientIdentityStripper:
    """ASGI middleware: pass each HTTP and WebSocket scope on without client identity."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            scope = scope_without_client_identity(scope)
        return await self.app(scope, receive, send)
