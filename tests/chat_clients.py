"""Crisis-chat clients over real WebSockets, as the pages' scripts behave.

Each keeps the last sequence number it showed per conversation, resumes from
it after any drop, and resends what was never acknowledged; ``shown`` lists
every message it would have shown, so a test can check that none is missing
or doubled.
"""

import asyncio
import contextlib
import json

import websockets


class ChatClient:
    path = ""

    def __init__(self, port, host, cookie=""):
        # The address names the organization's host; the connection goes to this machine.
        self.port = port
        self.url = f"ws://{host}:{port}{self.path}"
        self.origin = f"http://{host}:{port}"
        self.cookie = cookie
        self.socket = None
        self.shown = []
        self.outbox = {}
        self.frames = asyncio.Queue()
        self.reader = None
        self.closing = False
        self.finished = False
        self.reconnects = 0
        self.reconnecting = None

    async def connect(self):
        headers = {"Cookie": self.cookie} if self.cookie else {}
        self.socket = await websockets.connect(
            self.url,
            origin=self.origin,
            additional_headers=headers,
            open_timeout=10,
            host="127.0.0.1",
            port=self.port,
        )
        self.reader = asyncio.create_task(self._read())

    async def _read(self):
        try:
            async for raw in self.socket:
                frame = json.loads(raw)
                if frame["type"] == "message":
                    self._show(frame)
                elif frame["type"] == "ack":
                    self.outbox.pop(frame["client_id"], None)
                elif frame["type"] == "error" and frame["error"] == "overloaded":
                    # As the pages do: send what is unacknowledged again in a moment.
                    asyncio.get_running_loop().call_later(
                        1, lambda: asyncio.ensure_future(self.resend())
                    )
                await self.frames.put(frame)
        except websockets.ConnectionClosed:
            pass
        await self.frames.put({"type": "closed"})
        if not self.closing and not self.finished:
            # As the pages do: come back and resume where we were.
            self.reconnects += 1
            self.reconnecting = asyncio.ensure_future(self.reconnect())

    async def resume_all(self):
        """Ask for what was missed and resend what was never acknowledged."""

    async def resend(self):
        """Send again what was never acknowledged."""

    def last_seq(self, conversation):
        seqs = [frame["seq"] for frame in self.shown if frame["conversation"] == conversation]
        return max(seqs, default=0)

    def _show(self, frame):
        if frame["seq"] <= self.last_seq(frame["conversation"]):
            return
        self.shown.append(frame)

    async def until(self, frame_type, timeout=10, **match):
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.frames.get()
                if frame["type"] == frame_type and all(frame.get(k) == v for k, v in match.items()):
                    return frame

    async def send(self, **frame):
        """Send if connected; what is lost here goes again from the outbox on resuming."""
        with contextlib.suppress(websockets.ConnectionClosed):
            await self.socket.send(json.dumps(frame))

    async def close(self):
        self.finished = True
        await self._drop()

    async def _drop(self):
        self.closing = True
        if self.socket is not None:
            await self.socket.close()
        if self.reader is not None and self.reader is not asyncio.current_task():
            await self.reader
        self.closing = False

    async def reconnect(self, attempts=200):
        """Reconnect after the server or the network dropped us and resume, as the pages do."""
        await self._drop()
        for _ in range(attempts):
            try:
                await self.connect()
                await self.resume_all()
                return
            except (OSError, websockets.InvalidHandshake):
                await asyncio.sleep(0.1)
        raise ConnectionError(self.url)


class SurvivorClient(ChatClient):
    path = "/ws/connect/"
    token = None
    conversation = None

    async def start(self, ticket, language="en"):
        await self.send(type="start", ticket=ticket, safety="not_worried", language=language)
        self.token = (await self.until("started"))["token"]

    async def resume_all(self):
        if self.token is None:
            return
        await self.send(
            type="resume",
            token=self.token,
            last_seq=self.last_seq(self.conversation) if self.conversation else 0,
        )
        await self.resend()

    async def resend(self):
        for client_id, text in list(self.outbox.items()):
            await self.send(type="message", client_id=client_id, text=text)

    async def say(self, client_id, text):
        self.outbox[client_id] = text
        await self.send(type="message", client_id=client_id, text=text)


class WorkerClient(ChatClient):
    path = "/ws/staff/chat/"
    conversations = ()

    async def accept_next(self):
        while True:
            frame = await self.until("queue")
            if frame["conversations"]:
                conversation = frame["conversations"][0]["conversation"]
                await self.send(type="accept", conversation=conversation)
                await self.until("conversation", conversation=conversation)
                self.conversations = (*self.conversations, conversation)
                return conversation

    async def resume_all(self):
        for conversation in self.conversations:
            await self.send(
                type="resume", conversation=conversation, last_seq=self.last_seq(conversation)
            )
        await self.resend()

    async def resend(self):
        for client_id, (conversation, text) in list(self.outbox.items()):
            await self.send(
                type="message", conversation=conversation, client_id=client_id, text=text
            )

    async def say(self, conversation, client_id, text):
        self.outbox[client_id] = (conversation, text)
        await self.send(type="message", conversation=conversation, client_id=client_id, text=text)
