"""Open WebSockets through the real ASGI application, as a browser on a host would."""

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

    async def drain(self, seconds=None):
        """Return every frame that arrives before ``seconds`` pass without one."""
        frames = []
        while not await self.socket.receive_nothing(timeout=seconds or self.drain_seconds):
            frames.append(await self.receive())
        return frames
