"""Thousands of generated hostile frames on every socket route, beside a crisis chat that goes on.

Each frame is built from a schema of its route (the consumers' ``actions``)
and, most of the time, broken in one way: nesting, a lone surrogate, NUL, a
wrong type, a boolean or a float for a number, a number too large or below
its range, an unknown field, a missing one, a string too long, an unknown
type. A broken frame must get exactly one error frame, its client id echoed,
and leave its socket open; a well-formed one may do what it does, and may
close its socket only on purpose. Nothing may close with 1011 or log a
failure. Meanwhile a survivor and a worker exchange messages on other
sockets, and each sees every message once, in order.

A ping follows every frame, and its pong closes the frame's answers. The
frames come from a seeded ``random.Random``: a failure replays.
"""

import asyncio
import json
import random
import uuid

import msgspec.inspect
import pytest
from asgiref.sync import sync_to_async

from accounts.consumers import StaffConsumer
from accounts.models import Role
from conversations.consumers import StaffChatConsumer, SurvivorChatConsumer
from groups.consumers import FacilitatorConsumer, ParticipantConsumer
from groups.services import participant_admit
from policies.tenancy import organization_context
from shelterchat import frames
from tests.conversations.conftest import live_chat, make_chat_ready, on_shift, ticket_for
from tests.factories import client_for, staff_create
from tests.groups.conftest import (
    agreement_publish,
    arrive,
    live_group_make,
    participant_client,
    session_around,
)
from tests.websocket import JsonSocket, Raw, communicator, frame_text

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

SEED = 20261201
FRAMES_PER_ROUTE = {
    SurvivorChatConsumer: 700,
    StaffChatConsumer: 700,
    StaffConsumer: 150,
    ParticipantConsumer: 400,
    FacilitatorConsumer: 500,
}
# Well-formed frames not sent: ending the meeting would end the others' room, and a
# ping is sent after every frame anyway.
NEVER_SENT_WELL_FORMED = {frames.Ping, (FacilitatorConsumer, frames.End)}
DELIBERATE_CLOSES = {1000, 4403, 4404}
# The ways of breaking a frame that break the field chosen.
BREAK_THE_FIELD = {
    "wrong_type",
    "null",
    "surrogate",
    "nul",
    "too_long",
    "boolean",
    "huge",
    "negative",
    "float",
    "out_of_range",
    "not_uuid",
}
# Well-formed, these end the socket's chat or place in the room: it closes once that is done.
ENDING = {frames.End, frames.Leave}
CHAT_ROUNDS = 40
WORDS = ["hello", "bonjour", "أنا هنا", "我在这里", "ᐊᐃᓐᓇ", "🌱", "שלום", "x" * 30]


class FrameMaker:
    """Make frames of one route's schemas, well formed or broken in one chosen way."""

    def __init__(self, rng, consumer, pools):
        self.rng = rng
        self.consumer = consumer
        self.pools = pools
        self.schemas = [msgspec.inspect.type_info(schema) for schema in consumer.actions]

    def value(self, field):
        """Return a well-formed value of ``field``, from the route's pools where it names things."""
        rng = self.rng
        if field.name in self.pools:
            return rng.choice(self.pools[field.name])
        kind = _not_none(field.type)
        if isinstance(kind, msgspec.inspect.UUIDType):
            return uuid.UUID(int=rng.getrandbits(128)).hex
        if isinstance(kind, msgspec.inspect.BoolType):
            return rng.random() < 0.5
        if isinstance(kind, msgspec.inspect.LiteralType):
            return rng.choice(kind.values)
        if isinstance(kind, msgspec.inspect.IntType):
            return rng.randint(kind.ge if kind.ge is not None else 0, min(kind.le or 60, 60))
        if isinstance(kind, msgspec.inspect.StrType):
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
            return text[: kind.max_length]
        raise AssertionError(f"no values for {field.name}: {field.type}")

    def make(self):
        """Return (frame text, the error it must get or None, the client id to echo, whether
        it ends the socket's chat)."""
        schema = self.rng.choice(self.schemas)
        fields = {"type": schema.tag}
        for field in schema.fields:
            if field.required or self.rng.random() < 0.5:
                fields[field.name] = self.value(field)
        if (
            self.rng.random() < 0.1
            and schema.cls not in NEVER_SENT_WELL_FORMED
            and (self.consumer, schema.cls) not in NEVER_SENT_WELL_FORMED
        ):
            return frame_text(fields), None, None, schema.cls in ENDING
        return (*self.broken(schema, fields), False)

    def broken(self, schema, fields):
        rng = self.rng
        client_id = fields.get("client_id")
        named = [field for field in schema.fields if field.name in fields]
        field = rng.choice(named) if named else None
        kind = _not_none(field.type) if field else None
        ways = ["deep", "deep_field", "unknown_field", "unknown_type", "not_object"]
        if field is not None:
            ways += ["wrong_type", "null"] if field.required else ["wrong_type"]
        if isinstance(kind, msgspec.inspect.StrType):
            ways += ["surrogate", "nul", "too_long"]
        if isinstance(kind, msgspec.inspect.IntType):
            ways += ["boolean", "huge", "negative", "float", "out_of_range"]
        if isinstance(kind, msgspec.inspect.UUIDType):
            ways += ["nul", "surrogate", "not_uuid"]
        if any(f.required for f in schema.fields):
            ways.append("missing")
        way = rng.choice(ways)
        error, echo = "malformed", client_id
        if way == "deep":
            depth = rng.randint(1000, 7000)
            return Raw("[" * depth + "]" * depth), "malformed", None
        if way == "deep_field":
            # Too deep to read even leniently: then no client id can be echoed.
            depth = rng.choice([2, 50, 3000, 7000])
            name = rng.choice([*sorted(fields.keys() - {"type"}), "extra"])
            fields[name] = Raw("[" * depth + "]" * depth)
            if depth > 50 or name == "client_id":
                echo = None
        elif way == "unknown_field":
            fields[f"x_{rng.randint(0, 99)}"] = rng.choice([1, "x", True, None, [], {}])
        elif way == "wrong_type":
            fields[field.name] = rng.choice(_wrong_values(kind))
        elif way == "null":
            fields[field.name] = None
        elif way == "unknown_type":
            fields["type"] = rng.choice(["launch", "Message", "", "message "])
            error = "unknown_type"
        elif way == "not_object":
            return rng.choice(['["ping"]', '"ping"', "42", "null", "{", " "]), "malformed", None
        elif way == "surrogate":
            fields[field.name] = Raw(rng.choice([r'"\ud800"', r'"a\udfffb"', r'"\udbff\u0041"']))
        elif way == "nul":
            fields[field.name] = "a\x00" if kind else "\x00"
        elif way == "too_long":
            length = kind.max_length + rng.randint(1, 20000)
            fields[field.name] = "ab" * (length // 2 + 1)
        elif way == "boolean":
            fields[field.name] = rng.random() < 0.5
        elif way == "huge":
            digits = rng.choice([20, 40, 400, 5000])
            fields[field.name] = Raw("9" * digits)
            if digits > 4300:
                # Past the digits Python's int() reads.
                echo = None
        elif way == "negative":
            fields[field.name] = -rng.randint(1, 2**70)
        elif way == "float":
            fields[field.name] = float(rng.randint(1, 5))
        elif way == "out_of_range":
            fields[field.name] = (kind.le or 2**64) + rng.randint(1, 10)
        elif way == "not_uuid":
            fields[field.name] = rng.choice(["not-a-uuid", "1234", "g" * 32, ""])
        elif way == "missing":
            required = [f.name for f in schema.fields if f.required]
            del fields[rng.choice(required)]
        if way in BREAK_THE_FIELD and field.name == "client_id":
            echo = None
        if way == "missing" and "client_id" not in fields:
            echo = None
        text = frame_text(fields)
        if len(text.encode("utf-8", "surrogatepass")) > frames.MAX_FRAME_BYTES:
            return text, "frame_too_large", None
        return text, error, echo


def _not_none(kind):
    if isinstance(kind, msgspec.inspect.UnionType):
        [kind] = [each for each in kind.types if not isinstance(each, msgspec.inspect.NoneType)]
    return kind


def _wrong_values(kind):
    values = [[], {}, [["x"]], {"a": 1}]
    if not isinstance(kind, msgspec.inspect.StrType | msgspec.inspect.UUIDType):
        values += ["1", "true"]
    if not isinstance(kind, msgspec.inspect.IntType):
        values += [1, 0]
    if not isinstance(kind, msgspec.inspect.BoolType):
        values += [True, 1.5]
    return values


class FuzzedSocket(JsonSocket):
    """One route's socket under fuzz; it opens again after a deliberate close."""

    timeout = 15

    def __init__(self, consumer, opener):
        self.consumer = consumer
        self.opener = opener
        self.socket = None
        self.sent = 0

    async def open(self):
        self.socket = await self.opener()

    async def exchange(self, text):
        """Send ``text`` then a ping; return the frames before the pong, and a close code if any."""
        await self.socket.send_to(text_data=text)
        await self.socket.send_json_to({"type": "ping"})
        answers = []
        while True:
            output = await self.socket.receive_output(timeout=self.timeout)
            if output["type"] == "websocket.close":
                return answers, output.get("code", 1000)
            frame = json.loads(output["text"])
            if frame["type"] == "pong":
                return answers, None
            answers.append(frame)

    async def run(self, maker, count):
        await self.open()
        for _ in range(count):
            text, error, echo, ending = maker.make()
            answers, closed = await self.exchange(text)
            if ending and closed is None:
                closed = await self.close_code()
            context = (self.consumer.__name__, text[:120], answers, closed)
            if error is not None:
                assert closed is None, context
                errors = [frame for frame in answers if frame["type"] == "error"]
                assert len(errors) == 1 and errors[0]["error"] == error, context
                assert errors[0].get("client_id") == echo, context
                assert not any(frame["type"] == "ack" for frame in answers), context
            elif closed is not None:
                assert closed in DELIBERATE_CLOSES, context
                await self.open()
            self.sent += 1
        await self.socket.disconnect()


async def _say(socket, frame, heard):
    """Send a message until it is acknowledged; keep the texts of the messages seen meanwhile.

    Refused as "overloaded", it goes again, as the pages do, for a minute at most.
    """
    for _attempt in range(120):
        await socket.send(**frame)
        while True:
            answer = await socket.receive(timeout=15)
            if answer["type"] == "message":
                heard.append(answer["text"])
            elif answer["type"] == "ack" and answer["client_id"] == frame["client_id"]:
                return
            elif answer["type"] == "error":
                assert answer["error"] == "overloaded", answer
                await asyncio.sleep(0.5)
                break
    raise AssertionError(f"never acknowledged: {frame}")


async def _converse(worker, survivor, conversation_id, heard_by_worker, heard_by_survivor):
    for turn in range(CHAT_ROUNDS):
        await _say(
            survivor,
            {"type": "message", "client_id": f"s{turn}", "text": f"s{turn}"},
            heard_by_survivor,
        )
        await _say(
            worker,
            {
                "type": "message",
                "conversation": conversation_id,
                "client_id": f"w{turn}",
                "text": f"w{turn}",
            },
            heard_by_worker,
        )
        await asyncio.sleep(0.05)


async def _until_heard(socket, heard, count):
    while len(heard) < count:
        frame = await socket.receive(timeout=15)
        if frame["type"] == "message":
            heard.append(frame["text"])


def _admitted(organization, live_group, moderator, name):
    with organization_context(organization):
        participant = arrive(organization, live_group, name)
        participant_admit(organization=organization, actor=moderator, participant=participant)
    return participant


async def test_generated_hostile_frames_on_every_route(organization, caplog):
    await sync_to_async(make_chat_ready)(organization)
    await sync_to_async(agreement_publish)(organization)
    live_group = await sync_to_async(live_group_make)(organization)
    await sync_to_async(session_around)(organization, live_group)
    fuzzer = await sync_to_async(on_shift)(
        organization, roles=(Role.SUPPORT_WORKER, Role.INTERPRETER)
    )
    moderator = await sync_to_async(staff_create)(organization, [Role.MODERATOR])
    fuzzer_client = await sync_to_async(client_for)(organization, fuzzer)
    moderator_client = await sync_to_async(client_for)(organization, moderator)

    worker, survivor, conversation_id = await live_chat(organization)
    rng = random.Random(SEED)
    other_conversation = uuid.UUID(int=rng.getrandbits(128)).hex
    bystander = await sync_to_async(_admitted)(organization, live_group, moderator, "Bystander")

    async def opened(path, client=None):
        socket = communicator(organization, path, client)
        connected, code = await socket.connect()
        assert connected, code
        return socket

    async def survivor_in_chat():
        socket = await opened("/ws/connect/")
        ticket = await sync_to_async(ticket_for)(organization)
        await socket.send_json_to({"type": "start", "ticket": ticket, "safety": "worried"})
        assert (await socket.receive_json_from(timeout=15))["type"] == "started"
        return socket

    arrivals = iter(range(10**6))

    async def participant_in_room():
        participant = await sync_to_async(_admitted)(
            organization, live_group, moderator, f"Fern {next(arrivals)}"
        )
        client = await sync_to_async(participant_client)(organization, participant)
        socket = await opened(f"/ws/groups/live/{live_group.link_id}/", client)
        await socket.send_json_to({"type": "join", "last_seq": 0})
        while (await socket.receive_json_from(timeout=15))["type"] != "admitted":
            pass
        return socket

    async def facilitator_in_room():
        socket = await opened(f"/ws/staff/groups/{live_group.pk}/live/", moderator_client)
        await socket.send_json_to({"type": "join", "last_seq": 0})
        return socket

    openers = {
        SurvivorChatConsumer: survivor_in_chat,
        StaffChatConsumer: lambda: opened("/ws/staff/chat/", fuzzer_client),
        StaffConsumer: lambda: opened("/ws/staff/", fuzzer_client),
        ParticipantConsumer: participant_in_room,
        FacilitatorConsumer: facilitator_in_room,
    }
    # The conversations named: the chat beside, which is not the fuzzer's, and none at all. The
    # participants: one in the room without a socket (not the fuzzed one, whom a removal would
    # close mid-answer), and no one.
    pools = {
        "conversation": [conversation_id, conversation_id.upper(), other_conversation],
        "participant": [bystander.pk, bystander.pk + 10**6],
        "to": [None, fuzzer.pk, worker.user.pk],
    }
    fuzzed = {consumer: FuzzedSocket(consumer, opener) for consumer, opener in openers.items()}

    heard_by_worker, heard_by_survivor = [], []
    chat = asyncio.create_task(
        _converse(worker, survivor, conversation_id, heard_by_worker, heard_by_survivor)
    )
    await asyncio.gather(
        *(
            fuzzed[consumer].run(
                FrameMaker(random.Random(f"{SEED}-{consumer.__name__}"), consumer, pools), count
            )
            for consumer, count in FRAMES_PER_ROUTE.items()
        )
    )
    await chat

    # Everyone saw every message once and in order (Survivor and Worker check the order).
    expected = ["s" + str(turn) for turn in range(CHAT_ROUNDS)] + [
        "w" + str(turn) for turn in range(CHAT_ROUNDS)
    ]
    await _until_heard(worker, heard_by_worker, len(expected))
    await _until_heard(survivor, heard_by_survivor, len(expected))
    assert sorted(heard_by_worker) == sorted(expected) == sorted(heard_by_survivor)
    assert worker.seen[conversation_id] == survivor.seen == 1 + len(expected)
    assert sum(socket.sent for socket in fuzzed.values()) == sum(FRAMES_PER_ROUTE.values())
    assert not [record for record in caplog.records if record.levelname == "ERROR"]
