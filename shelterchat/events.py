"""Events to WebSocket consumers, sent only once the transaction that caused them commits."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def broadcast_after_commit(group, event):
    """Send ``event`` to the channel-layer ``group`` once the current transaction commits.

    Outside a transaction it goes at once. Delivery is at most once: the
    services store everything a client must not miss before announcing it.
    """
    layer = get_channel_layer()
    transaction.on_commit(lambda: async_to_sync(layer.group_send)(group, event))
