"""The base of every WebSocket consumer: frames in, JSON objects out.

Each frame is decoded against the schema of its action (shelterchat.frames)
before any handler sees it; a frame that is not one of the socket's, or is
larger than ``frames.MAX_FRAME_BYTES``, gets an error frame and is otherwise
ignored: the connection stays open and nothing already sent is lost.

A handler that fails all the same (a bug, a database that refuses) closes
its socket the way a dropped connection does, so that what a departure
undoes (her presence, the groups joined) is undone, and logs one line that
names the error and where it happened, never what was said.

``ActionConsumer`` adds what the chat consumers (crisis chat and group
chats) share: refusals of their actions sent as error frames in the
socket's language, and admission control: when the process is past its
capacity, a frame the client keeps until it is acknowledged (one with a
``client_id``) is refused out loud ("overloaded"), and the client sends it
again, rather than left to wait without end.
"""

import asyncio
import contextlib
import logging
import os
import traceback

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from shelterchat import backlog, frames

logger = logging.getLogger(__name__)

# WebSocket's close code for "the server met an unexpected condition".
CLOSE_INTERNAL_ERROR = 1011


def db(function):
    """Run ORM work on the thread pool: chats must not queue behind one another's queries."""

    def on_pool_thread(waiting, /, *args, **kwargs):
        backlog.database_calls.leave(waiting)
        return function(*args, **kwargs)

    run = database_sync_to_async(on_pool_thread, thread_sensitive=False)

    async def call(*args, **kwargs):
        waiting = backlog.database_calls.enter()
        try:
            return await run(waiting, *args, **kwargs)
        finally:
            # Cancelled before a thread took it.
            backlog.database_calls.leave(waiting)

    return call


class CoalescedRefresh:
    """Run a refresh in the background; requests made while it runs collapse into one more run.

    Queue changes come in bursts (a busy evening, a shift change), and each
    one would otherwise make every console and every waiting survivor re-read
    the queue. Runs never overlap, and a run always follows the last request,
    so the last frame sent reflects the last change.

    The refresh comes with each request rather than being kept: a consumer
    holding its own bound method would be a reference cycle, left for the
    collector's full passes after every closed socket.
    """

    def __init__(self):
        self.task = None
        self.again = False

    def request(self, refresh):
        if self.task is not None and not self.task.done():
            self.again = True
            return
        self.task = asyncio.create_task(self._run(refresh))

    async def now(self, refresh):
        """Refresh before returning, in order with what the consumer sends next."""
        if self.task is not None and not self.task.done():
            self.again = True
            await self.task
        else:
            await refresh()

    async def _run(self, refresh):
        self.again = True
        while self.again:
            self.again = False
            await refresh()

    def cancel(self):
        if self.task is not None:
            self.task.cancel()


class ActionError(Exception):
    """An action that cannot happen; ``code`` is for programs, ``message`` for people.

    Subclasses add their own codes to ``MESSAGES``.
    """

    MESSAGES = {
        "malformed": _("That request was not understood."),
        "frame_too_large": _("That request was not understood."),
        "text_only": _("That request was not understood."),
        "unknown_type": _("That request was not understood."),
        "overloaded": _("We are very busy. Your message will be sent again in a moment."),
    }

    def __init__(self, code):
        super().__init__(code)
        self.code = code

    @property
    def message(self):
        return str(self.MESSAGES[self.code])


class JsonObjectConsumer(AsyncJsonWebsocketConsumer):
    """A socket whose frames are decoded against their schemas, then handled by their actions.

    ``actions`` maps each frame schema the socket accepts (shelterchat.frames)
    to the name of the method that takes it.
    """

    actions = {}
    language = "en"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.route = frames.Route(cls.actions) if cls.actions else None

    async def dispatch(self, message):
        """Dispatch as Channels does, without its trip per message to the one shared thread.

        Channels closes stale database connections on that thread before every
        handler; every database call here runs on a pool thread that does so
        itself (``database_sync_to_async``), and under load the trip queued
        every socket's every frame and event behind one thread.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        try:
            await handler(message)
        except StopConsumer:
            raise
        except Exception as error:
            await self.fail(message, error)

    async def fail(self, message, error):
        """Log where a handler failed, without content, and leave as a dropped socket does."""
        logger.error(
            "%s closed: %s handling %s, at %s",
            type(self).__name__,
            type(error).__name__,
            message["type"],
            _where(error),
        )
        if message["type"] == "websocket.disconnect":
            # The departure itself failed: there is nothing left to undo it with.
            raise StopConsumer
        # The socket may be gone already; the departure below must run all the same.
        with contextlib.suppress(Exception):
            await self.close(code=CLOSE_INTERNAL_ERROR)
        await self.dispatch({"type": "websocket.disconnect", "code": CLOSE_INTERNAL_ERROR})

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None:
            await self.send_action_error(ActionError("text_only"))
            return
        try:
            frame = self.route.decode(text_data)
        except frames.FrameRefused as refusal:
            await self.send_action_error(ActionError(refusal.code), **_echo(refusal.client_id))
            return
        await self.receive_frame(frame)

    async def receive_frame(self, frame):
        await getattr(self, self.actions[type(frame)])(frame)

    async def act_ping(self, frame):
        await self.send_json({"type": "pong"})

    async def send_error(self, code, **details):
        await self.send_json({"type": "error", "error": code, **details})

    async def send_action_error(self, error, **details):
        with translation.override(self.language):
            await self.send_error(error.code, message=error.message, **details)


def _where(error):
    """The lines of the project's own code that ``error`` went through, outermost first."""
    base = str(settings.BASE_DIR)
    return " > ".join(
        f"{os.path.relpath(place.filename, base)}:{place.lineno} {place.name}"
        for place in traceback.extract_tb(error.__traceback__)
        if place.filename.startswith(base) and "site-packages" not in place.filename
    )


def _echo(client_id):
    """The client id to repeat in an answer, so the page knows which of its messages it is about."""
    return {} if client_id is None else {"client_id": client_id}


class ActionConsumer(JsonObjectConsumer):
    async def receive_frame(self, frame):
        echo = _echo(getattr(frame, "client_id", None))
        if echo and backlog.overloaded():
            await self.send_action_error(ActionError("overloaded"), **echo)
            return
        try:
            await super().receive_frame(frame)
        except ActionError as error:
            await self.send_action_error(error, **echo)
