"""Group chat fan-out through daphne, Redis and PostgreSQL: one room, many participants.

Starts ``manage.py serve`` (one daphne process) on a database of its own
(``shelterchat_bench_groups_<pid>``, dropped at the end) with the Redis channel
layer under a key prefix of its own, seats PARTICIPANTS
people in one sitting of a group chat (let in by a facilitator) and opens a
real WebSocket for each of them and for the facilitator. Then, for each offered
RATE (messages per second into the room, from participants in turn), for
SECONDS: every message is stored encrypted, numbered and relayed to everyone
else in the room. Reports, per rate, the fan-out (messages delivered to
sockets per second), p50 and p99 delivery latency (from the sender's send to
each other socket's receipt), what was refused or never delivered, and
daphne's CPU and memory.

    .venv/bin/python bench/group_fanout.py [--participants 100] [--rates 5,10,20] [--seconds 15]
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
# Importing chat_relay sets its own environment: this module's must come after.
from chat_relay import HOST, Process, open_socket  # noqa: E402

# Names of this run only, so that runs side by side do not meet.
DATABASE = f"shelterchat_bench_groups_{os.getpid()}"
os.environ.update(
    DJANGO_SETTINGS_MODULE="shelterchat.settings",
    DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
    REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    REDIS_PREFIX=f"shelterchat-bench-groups-{os.getpid()}",
    HTTPS="off",
    SECRET_KEY="bench-only-secret-key-0123456789-0123456789-0123456789",
    LOG_LEVEL="WARNING",
    CONN_MAX_AGE="600",
)


def psql(*commands):
    arguments = ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres"]
    for command in commands:
        arguments += ["-c", command]
    subprocess.run(arguments, check=True)


def prepare(participant_count):
    """Create the room and its people; return the facilitator's and participants' cookies."""
    psql(
        f"CREATE DATABASE {DATABASE}",
        "DO $$ BEGIN CREATE ROLE shelterchat_app NOLOGIN; "
        "EXCEPTION WHEN duplicate_object THEN NULL; END $$",
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from accounts.models import Organization, OrganizationHostname, Role
    from groups.services import participant_admit
    from policies.tenancy import organization_context
    from tests.factories import client_for, staff_create
    from tests.groups.conftest import (
        agreement_publish,
        arrive,
        live_group_make,
        participant_client,
        session_around,
    )

    call_command("migrate", verbosity=0)
    settings.PLATFORM_DOMAIN = "platform.test"
    organization = Organization.objects.create(
        slug="bench", name="Bench", public_name="Bench", languages=["en"]
    )
    with organization_context(organization):
        OrganizationHostname.objects.create(organization=organization, hostname=HOST)
    facilitator = staff_create(organization, [Role.MODERATOR], username="bench-facilitator")
    agreement_publish(organization)
    group = live_group_make(organization)
    session_around(organization, group, ends_in=3 * 3600)
    cookie_name = settings.SESSION_COOKIE_NAME
    cookies = []
    for n in range(participant_count):
        participant = arrive(organization, group, f"Participant {n + 1}")
        with organization_context(organization):
            participant_admit(organization=organization, actor=facilitator, participant=participant)
        session = participant_client(organization, participant).cookies[cookie_name].value
        cookies.append(f"{cookie_name}={session}")
    staff = client_for(organization, facilitator).cookies[cookie_name].value
    return group, f"{cookie_name}={staff}", cookies


class Room:
    """Every socket of the room, and what each received."""

    def __init__(self):
        self.sent = {}
        self.latencies = []
        self.refused = 0
        self.admitted = 0
        self.readers = []

    async def read(self, socket, me):
        import websockets

        try:
            async for raw in socket:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "admitted":
                    self.admitted += 1
                elif kind == "error" and frame.get("error") == "overloaded":
                    self.refused += 1
                elif kind == "message" and frame["text"].startswith("m:"):
                    _, sender, message_id = frame["text"].split(":", 2)
                    if sender != me and message_id in self.sent:
                        self.latencies.append(time.perf_counter() - self.sent[message_id])
        except websockets.ConnectionClosed:
            pass

    def listen(self, socket, me):
        self.readers.append(asyncio.create_task(self.read(socket, me)))


def summary(latencies, offered, recipients, refused, seconds):
    ordered = sorted(latencies)
    return {
        "offered": offered,
        "fanout_per_s": len(ordered) / seconds,
        "p50_ms": statistics.median(ordered) * 1000 if ordered else float("nan"),
        "p99_ms": ordered[max(int(len(ordered) * 0.99) - 1, 0)] * 1000 if ordered else float("nan"),
        "refused": refused,
        "undelivered": (offered - refused) * recipients - len(ordered),
    }


async def run(port, group, staff_cookie, cookies, rates, seconds, process):
    room = Room()
    facilitator = await open_socket(port, f"/ws/staff/groups/{group.pk}/live/", staff_cookie)
    await facilitator.send(json.dumps({"type": "join", "last_seq": 0}))
    room.listen(facilitator, "f")
    sockets = []
    for n, cookie in enumerate(cookies):
        socket = await open_socket(port, f"/ws/groups/live/{group.link_id}/", cookie)
        await socket.send(json.dumps({"type": "join", "last_seq": 0}))
        room.listen(socket, str(n))
        sockets.append(socket)
    async with asyncio.timeout(60):
        while room.admitted < len(sockets):
            await asyncio.sleep(0.1)
    await asyncio.sleep(1)
    results = []
    n = 0
    for rate in rates:
        room.latencies = []
        refused_before = room.refused
        process.mark()
        interval = 1 / rate
        started = time.perf_counter()
        offered = 0
        while time.perf_counter() - started < seconds:
            sender = n % len(sockets)
            message_id = str(n)
            room.sent[message_id] = time.perf_counter()
            await sockets[sender].send(
                json.dumps(
                    {"type": "message", "client_id": message_id, "text": f"m:{sender}:{message_id}"}
                )
            )
            n += 1
            offered += 1
            delay = started + offered * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        await asyncio.sleep(3)
        figures = summary(
            room.latencies, offered, len(sockets), room.refused - refused_before, seconds
        )
        results.append(
            (rate, {**figures, "cpu_percent": process.cpu_percent(), "rss_mb": process.rss_mb()})
        )
    for socket in [facilitator, *sockets]:
        await socket.close()
    await asyncio.gather(*room.readers)
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=100)
    parser.add_argument("--rates", default="5,10,20")
    parser.add_argument("--seconds", type=int, default=15)
    args = parser.parse_args()
    rates = [float(rate) for rate in args.rates.split(",")]
    began = time.monotonic()
    server = None
    try:
        group, staff_cookie, cookies = prepare(args.participants)
        from tests.asgi_server import ServerProcess

        server = ServerProcess(
            DJANGO_SETTINGS_MODULE="shelterchat.settings",
            DATABASE_SET_ROLE="on",
            DEBUG="off",
            CHAT_SWEEP_SECONDS="60",
        )
        server.env["DATABASE_URL"] = os.environ["DATABASE_URL"]
        server.start()
        process = Process(server.process.pid)
        results = asyncio.run(
            run(server.port, group, staff_cookie, cookies, rates, args.seconds, process)
        )
    finally:
        if server is not None:
            server.stop()
        from django.db import connections

        connections.close_all()
        psql(f"DROP DATABASE IF EXISTS {DATABASE}")
    client_cpu = 100 * time.process_time() / (time.monotonic() - began)
    print(
        f"one daphne process; one room: {args.participants} participants and a facilitator; "
        f"{args.seconds} s per rate; this client's CPU {client_cpu:.0f}%"
    )
    for rate, figures in results:
        print(
            f"offered {rate:5.1f} messages/s into the room: fan-out "
            f"{figures['fanout_per_s']:7.1f} messages/s delivered  "
            f"p50 {figures['p50_ms']:6.1f} ms  p99 {figures['p99_ms']:7.1f} ms  "
            f"refused {figures['refused']}  undelivered {figures['undelivered']}  "
            f"CPU {figures['cpu_percent']:5.1f}%  RSS {figures['rss_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
