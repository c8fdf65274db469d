"""Crisis-chat relay throughput and latency through daphne, Redis and PostgreSQL.

Starts ``manage.py serve`` (one daphne process) on a database of its own
(``shelterchat_bench_chat``) with the Redis channel layer, then:

1. opens IDLE survivor sockets and reports daphne's memory with them open;
2. opens PAIRS survivor/worker conversations over real WebSockets and sends
   messages at a fixed offered RATE (per second, both directions) for SECONDS,
   with storage and encryption, and reports delivered messages/s, p50/p99
   relay latency (send to receipt by the other side), refusals and
   undelivered messages, and daphne's CPU and memory;
3. does the same with the bare Channels relay (conversations.baseline) on the
   same server.

    .venv/bin/python bench/chat_relay.py [--idle 2000] [--pairs 50] [--rate 300] [--seconds 20]
"""

import argparse
import asyncio
import contextlib
import datetime
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE = "shelterchat_bench_chat"
HOST = "bench.localhost"
os.environ.update(
    DJANGO_SETTINGS_MODULE="shelterchat.settings",
    DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
    REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    REDIS_PREFIX="shelterchat-bench",
    HTTPS="off",
    SECRET_KEY="bench-only-secret-key-0123456789-0123456789-0123456789",
    LOG_LEVEL="WARNING",
    CHAT_STARTS_PER_HOUR_PER_ADDRESS="100000",
    CONN_MAX_AGE="600",
)


def prepare(pair_count):
    subprocess.run(
        [
            "psql",
            "-q",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-c",
            f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)",
            "-c",
            f"CREATE DATABASE {DATABASE}",
            "-c",
            "DO $$ BEGIN CREATE ROLE shelterchat_app NOLOGIN; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        ],
        check=True,
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import Organization, OrganizationHostname, Role
    from conversations.services import shift_start
    from policies.tenancy import organization_context
    from tests.conversations.conftest import make_chat_ready, ticket_for
    from tests.factories import client_for, staff_create

    call_command("migrate", verbosity=0)
    settings.PLATFORM_DOMAIN = "platform.test"
    organization = Organization.objects.create(
        slug="bench",
        name="Bench",
        public_name="Bench",
        languages=["en"],
        chat_opening_message_en="",
        chat_silence_warning_minutes=600,
    )
    with organization_context(organization):
        OrganizationHostname.objects.create(organization=organization, hostname=HOST)
    make_chat_ready(organization)
    cookies = []
    for n in range(pair_count):
        worker = staff_create(organization, [Role.SUPPORT_WORKER], username=f"bench-worker-{n}")
        with organization_context(organization):
            shift_start(
                organization=organization,
                worker=worker,
                ends_at=timezone.now() + datetime.timedelta(hours=8),
            )
        session = client_for(organization, worker).cookies[settings.SESSION_COOKIE_NAME].value
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={session}")
    return cookies, ticket_for(organization)


class Process:
    """CPU and memory of the daphne process, from /proc."""

    def __init__(self, pid):
        self.pid = pid
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.mark()

    def cpu_seconds(self):
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.ticks

    def rss_mb(self):
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def mark(self):
        self.started = (time.monotonic(), self.cpu_seconds())

    def cpu_percent(self):
        wall, cpu = self.started
        return 100 * (self.cpu_seconds() - cpu) / (time.monotonic() - wall)


@contextlib.contextmanager
def collector_paused():
    """Keep this client from collecting while it measures: its pauses would count as latency."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def open_socket(port, path, cookie=""):
    import websockets

    headers = {"Cookie": cookie} if cookie else {}
    return await websockets.connect(
        f"ws://{HOST}:{port}{path}",
        origin=f"http://{HOST}:{port}",
        additional_headers=headers,
        host="127.0.0.1",
        port=port,
        open_timeout=30,
        max_queue=None,
    )


async def idle_phase(port, count, process):
    sockets = []
    for _ in range(count):
        sockets.append(await open_socket(port, "/ws/connect/"))
    await asyncio.sleep(2)
    memory = process.rss_mb()
    for socket in sockets:
        await socket.close()
    return memory


class Meter:
    def __init__(self):
        self.sent = {}
        self.latencies = []
        self.refused = 0

    def summary(self, seconds):
        delivered = len(self.latencies)
        ordered = sorted(self.latencies)
        return {
            "offered": len(self.sent),
            "delivered_per_s": delivered / seconds,
            "p50_ms": statistics.median(ordered) * 1000 if ordered else float("nan"),
            "p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000 if ordered else float("nan"),
            "refused": self.refused,
            "undelivered": len(self.sent) - delivered - self.refused,
        }


async def reader(socket, meter, me):
    import websockets

    try:
        async for raw in socket:
            frame = json.loads(raw)
            if frame.get("type") == "error" and frame.get("error") == "overloaded":
                meter.refused += 1
                continue
            text = frame.get("text") if frame.get("type", "message") == "message" else None
            if not text or not text.startswith("m:"):
                continue
            _, sender, message_id = text.split(":", 2)
            if sender != me and message_id in meter.sent:
                meter.latencies.append(time.perf_counter() - meter.sent[message_id])
    except websockets.ConnectionClosed:
        pass


async def offer(pairs, rate, seconds, meter, send):
    """Send ``rate`` messages a second for ``seconds``, round-robin over pairs and directions."""
    interval = 1 / rate
    started = time.perf_counter()
    n = 0
    while time.perf_counter() - started < seconds:
        pair, direction = pairs[n % len(pairs)], n % 2
        message_id = str(n)
        meter.sent[message_id] = time.perf_counter()
        await send(pair, direction, message_id)
        n += 1
        delay = started + n * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)


async def measure(label, pairs, sides, send, rate, seconds, process):
    """Offer ``rate`` messages a second over ``pairs``, then close every side's socket.

    ``sides`` are the sockets with who each speaks as ("s" or "w"), so that
    each counts only what the other side sent.
    """
    meter = Meter()
    readers = [asyncio.create_task(reader(socket, meter, me)) for socket, me in sides]
    print(f"measuring {label} for {seconds} s", file=sys.stderr, flush=True)
    process.mark()
    with collector_paused():
        await offer(pairs, rate, seconds, meter, send)
        await asyncio.sleep(3)
    cpu = process.cpu_percent()
    memory = process.rss_mb()
    for socket, _me in sides:
        await socket.close()
    await asyncio.gather(*readers)
    return {**meter.summary(seconds), "cpu_percent": cpu, "rss_mb": memory}


async def warm_up(survivor, worker, conversation):
    """One message each way before measuring, as every chat has after its greeting.

    A conversation's first messages pay once for what later ones reuse (its
    key, its safe words); fifty chats all starting in the same instant would
    measure that, not the sustained rate.
    """
    await survivor.send(json.dumps({"type": "message", "client_id": "warm", "text": "hello"}))
    await worker.send(
        json.dumps(
            {"type": "message", "conversation": conversation, "client_id": "warm", "text": "hi"}
        )
    )
    for socket, awaited in ((survivor, "hi"), (worker, "hello")):
        while json.loads(await socket.recv()).get("text") != awaited:
            pass


async def chat_phase(port, cookies, ticket, pair_count, rate, seconds, process):
    """Each pair: a survivor's socket and her worker's console socket."""
    pairs = []
    for cookie in cookies[:pair_count]:
        survivor = await open_socket(port, "/ws/connect/")
        await survivor.send(
            json.dumps(
                {"type": "start", "ticket": ticket, "safety": "not_worried", "language": "en"}
            )
        )
        while json.loads(await survivor.recv())["type"] != "started":
            pass
        worker = await open_socket(port, "/ws/staff/chat/", cookie)
        while True:
            frame = json.loads(await worker.recv())
            if frame["type"] == "queue" and frame["conversations"]:
                conversation = frame["conversations"][0]["conversation"]
                await worker.send(json.dumps({"type": "accept", "conversation": conversation}))
            elif frame["type"] == "conversation":
                break
        pairs.append((survivor, worker, conversation))
    # Let the server finish the queue updates of setting up before measuring.
    await asyncio.sleep(10)
    await asyncio.gather(*(warm_up(*pair) for pair in pairs))

    async def send(pair, direction, message_id):
        survivor, worker, conversation = pair
        if direction == 0:
            await survivor.send(
                json.dumps(
                    {"type": "message", "client_id": message_id, "text": f"m:s:{message_id}"}
                )
            )
        else:
            await worker.send(
                json.dumps(
                    {
                        "type": "message",
                        "conversation": conversation,
                        "client_id": message_id,
                        "text": f"m:w:{message_id}",
                    }
                )
            )

    sides = [(s, "s") for s, _, _ in pairs] + [(w, "w") for _, w, _ in pairs]
    return await measure("crisis chat", pairs, sides, send, rate, seconds, process)


async def baseline_phase(port, pair_count, rate, seconds, process):
    ends = []
    for pair in range(pair_count):
        ends.append(
            (
                await open_socket(port, f"/ws/bench/relay/{pair}/"),
                await open_socket(port, f"/ws/bench/relay/{pair}/"),
            )
        )

    async def send(pair, direction, message_id):
        sender = "s" if direction == 0 else "w"
        await pair[direction].send(
            json.dumps({"type": "message", "text": f"m:{sender}:{message_id}"})
        )

    sides = [(a, "s") for a, _ in ends] + [(b, "w") for _, b in ends]
    return await measure("the bare relay", ends, sides, send, rate, seconds, process)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--pairs", type=int, default=50)
    parser.add_argument("--rate", type=int, default=300)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    began = time.monotonic()
    cookies, ticket = prepare(args.pairs)
    gc.freeze()
    from tests.asgi_server import ServerProcess

    server = ServerProcess(
        DJANGO_SETTINGS_MODULE="shelterchat.settings",
        DATABASE_SET_ROLE="on",
        DEBUG="off",
        BENCHMARK_BASELINE="on",
        CHAT_SWEEP_SECONDS="60",
    )
    server.env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    server.start()
    process = Process(server.process.pid)
    started_memory = process.rss_mb()
    try:
        idle_memory = asyncio.run(idle_phase(server.port, args.idle, process))
        # The bare relay first: a backlog left by an overloaded phase would skew the next.
        bare = asyncio.run(
            baseline_phase(server.port, args.pairs, args.rate, args.seconds, process)
        )
        chat = asyncio.run(
            chat_phase(server.port, cookies, ticket, args.pairs, args.rate, args.seconds, process)
        )
    except Exception:
        server.stop()
        print(server.log()[-4000:], file=sys.stderr)
        raise
    server.stop()
    client_cpu = 100 * time.process_time() / (time.monotonic() - began)
    print(
        f"one daphne process; {args.pairs} pairs; offered {args.rate} messages/s "
        f"for {args.seconds} s; this client's CPU {client_cpu:.0f}%"
    )
    print(
        f"idle: daphne RSS {started_memory:.0f} MB at start, {idle_memory:.0f} MB with "
        f"{args.idle} survivor sockets open"
    )
    for label, figures in (
        ("crisis chat (stored, encrypted)", chat),
        ("bare Channels relay", bare),
    ):
        print(
            f"{label:32} delivered {figures['delivered_per_s']:6.1f}/s  "
            f"p50 {figures['p50_ms']:6.1f} ms  p99 {figures['p99_ms']:7.1f} ms  "
            f"refused {figures['refused']}  undelivered {figures['undelivered']}  "
            f"CPU {figures['cpu_percent']:5.1f}%  RSS {figures['rss_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
