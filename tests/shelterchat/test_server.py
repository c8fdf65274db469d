"""A connection daphne is done with is freed as it closes, not by the collector's full passes."""

import gc
import weakref

import pytest
import txaio
from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.server import Server
from daphne.ws_protocol import WebSocketFactory
from twisted.internet.testing import StringTransport

from shelterchat.server import ReleasingServer


def unstarted(server_class):
    """A server whose connection bookkeeping is driven by hand; it never listens."""
    server = server_class(application=None, endpoints=["tcp:port=0:interface=127.0.0.1"])
    server.connections = {}  # as ``run`` sets it up
    return server


def closed_websocket(server):
    """A WebSocket as autobahn leaves it when it closes: its ``is_closed`` holds it."""
    protocol = WebSocketFactory(server, server="test").buildProtocol(("127.0.0.1", 1))
    server.protocol_connected(protocol)
    txaio.resolve(protocol.is_closed, protocol)
    server.protocol_disconnected(protocol)
    return protocol


def upgraded_request(server):
    """The HTTP request a WebSocket was upgraded from: it and its channel point at each other.

    Returns the request and the socket's transport, which keeps the channel
    (its producer) until the socket closes.
    """
    connection = HTTPFactory(server).buildProtocol(("127.0.0.1", 1))
    transport = StringTransport()
    connection.makeConnection(transport)
    channel = connection._channel
    channel.setTimeout(None)  # as when a request has arrived
    request = WebRequest(channel)
    channel.requests.append(request)
    request.transport = None
    server.protocol_disconnected(request)
    return request, transport


@pytest.fixture
def collector_off():
    gc.disable()
    yield
    gc.enable()


@pytest.mark.parametrize(
    ("server_class", "freed"), [(ReleasingServer, True), (Server, False)], ids=["ours", "daphne's"]
)
def test_connections_done_with_are_freed_without_the_collector(collector_off, server_class, freed):
    server = unstarted(server_class)
    websocket = weakref.ref(closed_websocket(server))
    upgraded, transport = upgraded_request(server)
    request = weakref.ref(upgraded)
    del upgraded
    server.application_checker()
    assert not server.connections
    transport.unregisterProducer()  # as the socket's transport does when it closes
    del transport
    assert (websocket() is None, request() is None) == (freed, freed)


def test_connections_still_served_are_left_alone(collector_off):
    server = unstarted(ReleasingServer)
    protocol = WebSocketFactory(server, server="test").buildProtocol(("127.0.0.1", 1))
    server.protocol_connected(protocol)
    server.application_checker()
    assert protocol in server.connections
    assert not protocol.is_closed.called
