"""What identifies a survivor's device or network, removed before any code sees it.

No IP address or user agent is stored or logged anywhere. Rather than trust
every logger, middleware and error page to ignore them, both the ASGI
application and the Django middleware chain drop them from each request at
the door.
"""

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


def scope_without_client_identity(scope):
    """Return a copy of an ASGI scope without the client's address and identifying headers."""
    headers = [
        (name, value)
        for name, value in scope.get("headers", [])
        if name.lower() not in CLIENT_IDENTITY_HEADERS
    ]
    return {**scope, "client": None, "headers": headers}


class ClientIdentityStripper:
    """ASGI middleware: pass each HTTP and WebSocket scope on without client identity."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            scope = scope_without_client_identity(scope)
        return await self.app(scope, receive, send)
