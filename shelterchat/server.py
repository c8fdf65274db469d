"""daphne's server, letting go of each connection it is done with.

Every WebSocket daphne serves leaves reference cycles behind when it closes:
autobahn resolves the protocol's ``is_closed`` Deferred with the protocol
itself, daphne's handshake and application Deferreds call back into it, and
the HTTP request that was upgraded and its channel point at each other. By
then the objects are old, so only the collector's full passes reclaim them,
about 70 objects a socket: after a few thousand survivors leave, one pass
stops the process for hundreds of milliseconds, chats included. Breaking the
cycles once daphne has forgotten a connection frees them as they close.
"""

from daphne.http_protocol import WebRequest
from daphne.server import Server
from twisted.internet.defer import Deferred


def release(connection):
    """Break the cycles of a connection no longer served (a WebSocket or an HTTP request)."""
    for name, value in list(vars(connection).items()):
        if isinstance(value, Deferred):
            delattr(connection, name)
    if isinstance(connection, WebRequest) and "channel" in vars(connection):
        # What twisted does for a request that finished; an upgraded one never does.
        del connection.channel


class ReleasingServer(Server):
    def application_checker(self):
        served = set(self.connections)
        super().application_checker()
        for connection in served.difference(self.connections):
            release(connection)
