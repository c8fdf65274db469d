"""A bare Channels relay with no storage, no encryption and no checks.

Mounted only when ``BENCHMARK_BASELINE`` is set, so that bench/chat_relay.py
can show what crisis chat's storage and encryption cost against the least a
Channels relay does, on the same server in the same run.
"""

from channels.generic.websocket import AsyncWebsocketConsumer


class BareRelayConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.group = f"bench.relay.{self.scope['url_route']['kwargs']['pair']}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        await self.channel_layer.group_send(self.group, {"type": "relay", "text": text_data})

    async def relay(self, event):
        await self.send(text_data=event["text"])
