"""Open WebSockets through the real ASGI application, as a browser on a host would."""

from channels.testing import WebsocketCommunicator
from django.conf import settings

from shelterchat.asgi import application
from tests.factories import host_of


def communicator(organization, path, client=None, origin=None, host=None):
    """Return a communicator for ``path`` on the organization's host, with the client's cookies."""
    host = host or host_of(organization)
    headers = [(b"host", host.encode()), (b"origin", (origin or f"http://{host}").encode())]
    if client is not None:
        cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
        if cookie is not None:
            headers.append((b"cookie", f"{cookie.key}={cookie.value}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)
