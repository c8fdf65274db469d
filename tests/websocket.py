"""Open WebSockets through the real ASGI application, as a browser on a host would."""

import json

from channels.testing import WebsocketCommunicator
from django.conf import settings

from shelterchat.asgi import application
from tests.factories import host_of


def communicator(organization, path, client=None, origin=None, host=None, cookie=""):
    """Return a communicator for ``path`` on the organization's host, with the client's cookies.

    ``cookie`` is a Cookie header to send instead, as a browser without a session would.
    """
    host = host or host_of(organization)
    headers = [(b"host", host.encode()), (b"origin", (origin or f"http://{host}").encode())]
    if client is not None:
        session = client.cookies.get(settings.SESSION_COOKIE_NAME)
        if session is not None:
            cookie = f"{session.key}={session.value}"
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, path, headers=headers)


class Raw(str):
    """JSON text to put in a frame as it is: a lone surrogate, deep nesting, a huge number."""


def frame_text(fields):
    """Return the text of a frame of ``fields``, each ``Raw`` value as it is."""

    def encode(value):
        return value if isinstance(value, Raw) else json.dumps(value)

    return "{" + ", ".join(f"{json.dumps(k)}: {encode(v)}" for k, v in fields.items()) + "}"


class JsonSocket:
    """A test client's socket of JSON frames; ``check`` looks at each frame as it comes.

    Subclasses set ``socket`` (a communicator) and may set how long a receive
    waits and how long ``drain`` listens.
    """

    socket = None
    timeout = 10
    drain_seconds = 0.5

    def check(self, frame):
        """Check that ``frame`` comes in its place (once, in order); nothing by default."""

    async def receive(self, timeout=None):
        frame = await self.socket.receive_json_from(timeout=timeout or self.timeout)
        self.check(frame)
        return frame

    async def receive_until(self, frame_type, timeout=None, **match):
        while True:
            frame = await self.receive(timeout)
            if frame["type"] == frame_type and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def send(self, **frame):
        await self.socket.send_json_to(frame)

    async def send_refused(self, text, client_id=None):
        """Send ``text``; check that it is refused as malformed, echoing ``client_id``."""
        await self.socket.send_to(text_data=text)
        error = await self.receive_until("error")
        assert error["error"] == "malformed" and error["message"], (text[:80], error)
        assert error.get("client_id") == client_id, (text[:80], error)

    async def close_code(self, timeout=None):
        """Skip what is still sent, and return the code the server closed with."""
        while True:
            output = await self.socket.receive_output(timeout=timeout or self.timeout)
            if output["type"] == "websocket.close":
                return output.get("code", 1000)

    async def drain(self, seconds=None):
        """Return every frame that arrives before ``seconds`` pass without one."""
        frames = []
        while not await self.socket.receive_nothing(timeout=seconds or self.drain_seconds):
            frames.append(await self.receive())
        return frames
