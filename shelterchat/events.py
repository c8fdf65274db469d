"""Events to WebSocket consumers, sent only once the transaction that caused them commits."""

import asyncio
import logging
import os
import weakref

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)
# Event loop -> (its queue of events to send, in commit order; the task sending them).
_outboxes = weakref.WeakKeyDictionary()


def broadcast_after_commit(group, event):
    """Send ``event`` to the channel-layer ``group`` once the current transaction commits.

    Outside a transaction it goes at once. Delivery is at most once: the
    services store everything a client must not miss before announcing it.
    From a consumer's or a view's worker thread the event is handed to the
    server's event loop without waiting, so the thread and its database
    connection go straight back to work; the loop sends events in order.
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
    """Queue an event in the loop's outbox, which sends in order: a chat's last message
    must reach her page before the end that clears it."""
    if loop not in _outboxes:
        outbox = asyncio.Queue()
        _outboxes[loop] = (outbox, loop.create_task(_send_from(outbox)))
    _outboxes[loop][0].put_nowait((layer, group, event))


async def _send_from(outbox):
    while True:
        layer, group, event = await outbox.get()
        try:
            await layer.group_send(group, event)
        except Exception as error:
            # One failed send must not stop the rest; clients resume from the database.
            logger.warning("An event was not sent: %s", type(error).__name__)


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
