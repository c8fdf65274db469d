"""Events to WebSocket consumers, sent only once the transaction that caused them commits."""

import asyncio
import logging
import os

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def broadcast_after_commit(group, event):
    """Send ``event`` to the channel-layer ``group`` once the current transaction commits.

    Outside a transaction it goes at once. Delivery is at most once: the
    services store everything a client must not miss before announcing it.
    From a consumer's or a view's worker thread the send is handed to the
    server's event loop without waiting, so the thread and its database
    connection go straight back to work.
    """
    layer = get_channel_layer()
    transaction.on_commit(lambda: _send(layer, group, event))


def _send(layer, group, event):
    loop = _serving_loop()
    if loop is None:
        async_to_sync(layer.group_send)(group, event)
        return
    sending = asyncio.run_coroutine_threadsafe(layer.group_send(group, event), loop)
    sending.add_done_callback(_report_failure)


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


def _report_failure(sending):
    if not sending.cancelled() and sending.exception() is not None:
        logger.warning("An event was not sent: %s", type(sending.exception()).__name__)
