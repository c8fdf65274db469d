import asyncio

import pytest
from asgiref.sync import sync_to_async

from accounts.models import Membership, Role
from accounts.services import membership_update
from policies.tenancy import organization_context
from tests.factories import client_for, membership_add, staff_create
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
