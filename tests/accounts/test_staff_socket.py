import asyncio
import json
import time

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings

from accounts.middleware import SESSION_SEEN_KEY, SESSION_STARTED_KEY
from accounts.models import Membership, Role
from accounts.services import membership_update
from policies.tenancy import organization_context
from tests.asgi_server import ServerProcess
from tests.factories import client_for, host_of, membership_add, staff_create
from tests.websocket import communicator

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_staff_socket_needs_verified_second_factor(organization, worker):
    client = await sync_to_async(client_for)(organization, worker, verified=False)
    socket = communicator(organization, "/ws/staff/", client)
    connected, code = await socket.connect()
    assert not connected
    assert code == 4403


async def test_staff_socket_open_with_verified_second_factor(organization, worker):
    client = await sync_to_async(client_for)(organization, worker)
    socket = communicator(organization, "/ws/staff/", client)
    connected, _ = await socket.connect()
    assert connected
    assert (await socket.receive_json_from())["type"] == "hello"
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from() == {"type": "pong"}
    await socket.disconnect()


async def test_malformed_frame_gets_an_error_and_socket_stays(organization, worker):
    client = await sync_to_async(client_for)(organization, worker)
    socket = communicator(organization, "/ws/staff/", client)
    await socket.connect()
    await socket.receive_json_from()
    for frame in (
        "not json at all",
        '["not", "an", "object"]',
        '{"no": "type"}',
        '{"type": "' + "x" * 20000 + '"}',
        '{"type": "unheard-of"}',
    ):
        await socket.send_to(text_data=frame)
        assert (await socket.receive_json_from())["type"] == "error"
    await socket.send_to(bytes_data=b"binary")
    assert (await socket.receive_json_from())["type"] == "error"
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from() == {"type": "pong"}
    await socket.disconnect()


async def test_anonymous_refused(organization):
    socket = communicator(organization, "/ws/staff/")
    connected, _ = await socket.connect()
    assert not connected


async def test_foreign_origin_refused(organization, worker):
    client = await sync_to_async(client_for)(organization, worker)
    for origin in ("http://evil.example", "http://elsewhere.test", "https://harbour.test.evil"):
        socket = communicator(organization, "/ws/staff/", client, origin=origin)
        connected, _ = await socket.connect()
        assert not connected, origin


async def test_another_organizations_origin_and_host_refused(
    organization, other_organization, worker
):
    client = await sync_to_async(client_for)(organization, worker)
    # Her session cookie replayed against the other organization's host.
    socket = communicator(other_organization, "/ws/staff/", client)
    connected, _ = await socket.connect()
    assert not connected


async def test_unknown_and_platform_hosts_refused(organization, worker):
    for host in ("nobody.test", "platform.test"):
        socket = communicator(organization, "/ws/staff/", host=host)
        connected, _ = await socket.connect()
        assert not connected


async def test_disabling_membership_closes_open_socket(organization, org_admin, worker):
    client = await sync_to_async(client_for)(organization, worker)
    socket = communicator(organization, "/ws/staff/", client)
    await socket.connect()
    await socket.receive_json_from()

    def disable():
        with organization_context(organization):
            membership = Membership.objects.get(user=worker)
            membership_update(
                organization=organization,
                actor=org_admin,
                membership=membership,
                roles=membership.roles,
                is_active=False,
            )

    await sync_to_async(disable)()
    closed = await socket.receive_output(timeout=3)
    assert closed == {"type": "websocket.close", "code": 4403}


async def test_idle_socket_outlives_redis_default_timeout(organization, worker):
    """A socket idle past redis-py's default 5-second socket timeout is still open."""
    client = await sync_to_async(client_for)(organization, worker)
    socket = communicator(organization, "/ws/staff/", client)
    await socket.connect()
    await socket.receive_json_from()
    await asyncio.sleep(7)
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=3) == {"type": "pong"}
    await socket.disconnect()


async def test_origin_must_match_scheme_host_and_port(organization, worker):
    client = await sync_to_async(client_for)(organization, worker)
    for host, origin in (
        ("harbour.test", "http://harbour.test:8443"),
        ("harbour.test", "https://harbour.test"),
        ("harbour.test:8000", "http://harbour.test"),
        ("harbour.test:8000", "http://harbour.test:8001"),
        ("harbour.test", "http://harbour.test:bad"),
        ("harbour.test", "null"),
    ):
        socket = communicator(organization, "/ws/staff/", client, origin=origin, host=host)
        connected, _ = await socket.connect()
        assert not connected, (host, origin)
    for host, origin in (
        ("harbour.test", "http://harbour.test:80"),
        ("harbour.test:8000", "http://harbour.test:8000"),
    ):
        socket = communicator(organization, "/ws/staff/", client, origin=origin, host=host)
        connected, _ = await socket.connect()
        assert connected, (host, origin)
        await socket.disconnect()


async def test_session_of_another_organizations_host_opens_no_socket(
    organization, other_organization
):
    """Her session on one organization's host, presented on the other's, where she is staff too."""
    interpreter = await sync_to_async(staff_create)(organization, [Role.INTERPRETER])
    await sync_to_async(membership_add)(other_organization, interpreter, [Role.INTERPRETER])
    client = await sync_to_async(client_for)(organization, interpreter)
    socket = communicator(other_organization, "/ws/staff/", client)
    connected, code = await socket.connect()
    assert (connected, code) == (False, 4403)
    socket = communicator(organization, "/ws/staff/", client)
    connected, _ = await socket.connect()
    assert connected
    await socket.disconnect()


def _session_set(client, **timestamps):
    session = client.session
    session.update(timestamps)
    session.save()


async def _open(organization, client):
    socket = communicator(organization, "/ws/staff/", client)
    connected, _ = await socket.connect()
    assert connected
    assert (await socket.receive_json_from())["type"] == "hello"
    return socket


async def _console_near_idle_limit(organization, worker):
    """Open a console whose session, under a 1-minute idle limit, has 2 seconds left."""
    organization.staff_idle_minutes = 1
    await sync_to_async(organization.save)()
    client = await sync_to_async(client_for)(organization, worker)
    await sync_to_async(_session_set)(client, **{SESSION_SEEN_KEY: time.time() - 58})
    return client, await _open(organization, client)


async def test_idle_session_closes_its_socket_without_any_request(organization, worker):
    """With a 1-minute idle limit, a console left alone closes when the minute is up."""
    client, socket = await _console_near_idle_limit(organization, worker)
    closed = await socket.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4403}
    assert await sync_to_async(lambda: client.get("/staff/")["Location"])() == "/staff/login/"


async def test_a_page_request_keeps_the_socket_open(organization, worker):
    client, socket = await _console_near_idle_limit(organization, worker)
    assert await sync_to_async(lambda: client.get("/staff/").status_code)() == 200
    await asyncio.sleep(4)
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=3) == {"type": "pong"}
    await socket.disconnect()


async def test_frames_count_as_activity(organization, worker):
    """A worker typing in a chat is at work: her frames keep the session alive."""
    client, socket = await _console_near_idle_limit(organization, worker)
    await asyncio.sleep(1)
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=3) == {"type": "pong"}
    await asyncio.sleep(4)
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=3) == {"type": "pong"}
    assert await sync_to_async(lambda: client.get("/staff/").status_code)() == 200
    await socket.disconnect()


async def test_absolute_limit_closes_a_busy_socket(organization, worker):
    client = await sync_to_async(client_for)(organization, worker)
    started = time.time() - organization.staff_session_hours * 3600 + 2
    await sync_to_async(_session_set)(client, **{SESSION_STARTED_KEY: started})
    socket = await _open(organization, client)
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=3) == {"type": "pong"}
    closed = await socket.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4403}


async def test_signing_out_closes_her_socket_served_by_another_process(organization, worker):
    import websockets

    client = await sync_to_async(client_for)(organization, worker)
    server = await sync_to_async(ServerProcess().start)()
    try:
        host = f"{host_of(organization)}:{server.port}"
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        socket = await websockets.connect(
            f"ws://{host}/ws/staff/",
            origin=f"http://{host}",
            additional_headers={"Cookie": f"{cookie.key}={cookie.value}"},
            host="127.0.0.1",
            port=server.port,
        )
        assert json.loads(await socket.recv())["type"] == "hello"
        await sync_to_async(client.post)("/staff/logout/")
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), timeout=5)
        assert closed.value.rcvd.code == 4403
    finally:
        await sync_to_async(server.stop)()
