"""Events to WebSocket consumers, sent only once the transaction that caused them commits."""

import collections
import logging
import os
import weakref

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from shelterchat import backlog

logger = logging.getLogger(__name__)
# Event loop -> {group: (its events still to send, in commit order; the task sending them)}.
_outboxes = weakref.WeakKeyDictionary()


def broadcast_after_commit(group, event):
    """Send ``event`` to the channel-layer ``group`` once the current transaction commits.

    Outside a transaction it goes at once. Delivery is at most once: the
    services store everything a client must not miss before announcing it.
    From a consumer's or a view's worker thread the event is handed to the
    server's event loop without waiting, so the thread and its database
    connection go straight back to work. Each group's events are sent in the
    order their transactions committed: a chat's last message reaches her page
    before the end that clears it.
    """
    layer = get_channel_layer()
    transaction.on_commit(lambda: _send(layer, group, event))


def _send(layer, group, event):
    loop = _serving_loop()
    if loop is None:
        async_to_sync(layer.group_send)(group, event)
    else:
        loop.call_soon_threadsafe(_post, loop, layer, group, event)


def _post(loop, layer, group, event):
    """Queue an event behind the group's earlier ones; groups are sent to independently."""
    queues = _outboxes.setdefault(loop, {})
    if group not in queues:
        queues[group] = (collections.deque(), loop.create_task(_send_queued(queues, group, layer)))
    queues[group][0].append((backlog.events.enter(), event))


async def _send_queued(queues, group, layer):
    waiting = queues[group][0]
    try:
        while waiting:
            ticket, event = waiting[0]
            try:
                await layer.group_send(group, event)
            except Exception as error:
                # One failed send must not stop the rest; clients resume from the database.
                logger.warning("An event was not sent: %s", type(error).__name__)
            waiting.popleft()
            backlog.events.leave(ticket)
    finally:
        for ticket, _event in waiting:
            backlog.events.leave(ticket)
        del queues[group]


def _serving_loop():
    """The running event loop whose worker thread this is (as asgiref records it), or None."""
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    if (
        loop is None
        or getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) != os.getpid()
        or loop.is_closed()
        or not loop.is_running()
    ):
        return None
    return loop
