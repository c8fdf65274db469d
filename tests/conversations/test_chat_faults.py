"""Faults: daphne killed, Redis restarted or frozen mid-conversation.

Both sides reconnect and resume by sequence number; afterwards each has shown
every message exactly once, in order. Each test runs its own daphne (and, for
the Redis fault, its own Redis server), so nothing else is disturbed.
"""

import asyncio
import contextlib
import datetime
import shutil
import signal
import subprocess
import time

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone

from accounts.models import Organization, OrganizationHostname, Role
from conversations.models import Message
from conversations.services import shift_start
from policies.tenancy import organization_context
from tests.asgi_server import ServerProcess, free_port
from tests.chat_clients import SurvivorClient, WorkerClient
from tests.conversations.conftest import make_chat_ready, ticket_for
from tests.factories import client_for, staff_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

HOST = "faults.localhost"


def _site():
    organization = Organization.objects.create(
        slug="faults", name="Faults", public_name="F", languages=["en"]
    )
    with organization_context(organization):
        OrganizationHostname.objects.create(organization=organization, hostname=HOST)
    make_chat_ready(organization)
    worker = staff_create(organization, [Role.SUPPORT_WORKER])
    with organization_context(organization):
        shift_start(
            organization=organization,
            worker=worker,
            ends_at=timezone.now() + datetime.timedelta(hours=4),
        )
    session = client_for(organization, worker).cookies[settings.SESSION_COOKIE_NAME].value
    return organization, f"{settings.SESSION_COOKIE_NAME}={session}", ticket_for(organization)


class RedisServer:
    """A Redis of the test's own, which it may restart, freeze and thaw."""

    def __init__(self):
        port = free_port()
        self.url = f"redis://127.0.0.1:{port}/0"
        self.command = [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        self.process = None

    def start(self):
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL)
        time.sleep(0.3)

    def stop(self):
        self.process.kill()
        self.process.wait()

    def restart(self):
        self.stop()
        self.start()

    def freeze(self):
        """Stop it answering, as a hung server does, with its connections left open."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.process.send_signal(signal.SIGCONT)


@contextlib.contextmanager
def redis_server():
    redis = RedisServer()
    redis.start()
    try:
        yield redis
    finally:
        redis.thaw()
        redis.stop()


async def _chat_on(server):
    """A survivor's chat, accepted by a worker, both over real WebSockets to ``server``."""
    organization, cookie, ticket = await sync_to_async(_site)()
    worker = WorkerClient(server.port, HOST, cookie)
    survivor = SurvivorClient(server.port, HOST)
    await worker.connect()
    await survivor.connect()
    await survivor.start(ticket)
    survivor.conversation = await worker.accept_next()
    return organization, worker, survivor


async def _conversation_with_fault(server, fault):
    organization, worker, survivor = await _chat_on(server)
    conversation = survivor.conversation
    for n in range(5):
        await survivor.say(f"s{n}", f"survivor {n}")
        await worker.say(conversation, f"w{n}", f"worker {n}")
    await survivor.until("message", seq=11)

    # Mid-conversation: messages in flight when the fault strikes.
    await survivor.say("s-during", "sent as it broke")
    await worker.say(conversation, "w-during", "also sent as it broke")
    await sync_to_async(fault)()

    # A crashed server drops the sockets and the clients come back by themselves;
    # a restarted Redis may leave them connected: nudge them as a flaky network would.
    for client in (survivor, worker):
        if not client.reconnects:
            await client.reconnect()
    for n in range(5, 8):
        await survivor.say(f"s{n}", f"survivor {n}")
        await worker.say(conversation, f"w{n}", f"worker {n}")
    await survivor.until("message", seq=19, timeout=20)
    await worker.until("message", seq=19, timeout=20)

    def stored():
        with organization_context(organization):
            return list(Message.objects.order_by("seq").values_list("seq", "client_id"))

    rows = await sync_to_async(stored)()
    for client in (survivor, worker):
        seqs = [frame["seq"] for frame in client.shown]
        assert seqs == list(range(1, 20)), seqs
    assert [seq for seq, _ in rows] == list(range(1, 20))
    client_ids = [client_id for _, client_id in rows]
    assert len(client_ids) == len(set(client_ids))
    assert {"s-during", "w-during"} <= set(client_ids)
    await survivor.close()
    await worker.close()


async def test_daphne_killed_and_restarted_mid_conversation():
    server = ServerProcess()
    await sync_to_async(server.start)()

    def crash_and_restart():
        server.kill()
        server.start()

    try:
        await _conversation_with_fault(server, crash_and_restart)
    finally:
        await sync_to_async(server.stop)()


async def test_redis_restarted_mid_conversation():
    with redis_server() as redis:
        server = ServerProcess(REDIS_URL=redis.url)
        await sync_to_async(server.start)()
        try:
            await _conversation_with_fault(server, redis.restart)
        finally:
            await sync_to_async(server.stop)()


async def test_frozen_redis_refuses_new_messages_out_loud_and_loses_none():
    """While events cannot be published, messages are refused; once they can, all arrive once."""
    with redis_server() as redis:
        server = ServerProcess(REDIS_URL=redis.url, CHAT_MAX_WAIT_SECONDS="0.5")
        await sync_to_async(server.start)()
        try:
            _organization, worker, survivor = await _chat_on(server)
            await survivor.say("before", "before it froze")
            await worker.until("message", seq=2)

            redis.freeze()
            await survivor.say("stored", "stored, its event stuck")
            await survivor.until("ack", client_id="stored")
            await asyncio.sleep(1)
            await survivor.say("refused", "refused until it thaws")
            await survivor.until("error", error="overloaded", client_id="refused")
            assert "refused" in survivor.outbox

            redis.thaw()
            await survivor.until("ack", client_id="refused", timeout=20)
            await worker.until("message", seq=4, timeout=20)
            shown = [(frame["seq"], frame["client_id"]) for frame in worker.shown]
            assert shown[1:] == [(2, "before"), (3, "stored"), (4, "refused")]
            await survivor.close()
            await worker.close()
        finally:
            await sync_to_async(server.stop)()
