"""The base of every WebSocket consumer: JSON objects in, JSON objects out.

A frame that is not a JSON object, or is larger than ``MAX_FRAME_BYTES``,
gets an error frame and is otherwise ignored: the connection stays open and
nothing already sent is lost.
"""

import json

from channels.generic.websocket import AsyncJsonWebsocketConsumer

MAX_FRAME_BYTES = 16 * 1024


class JsonObjectConsumer(AsyncJsonWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None or len(text_data.encode()) > MAX_FRAME_BYTES:
            await self.send_error("frame_too_large" if text_data else "text_only")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_error("malformed")
            return
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_error("malformed")
            return
        await self.receive_json(content)

    async def send_error(self, code, **details):
        await self.send_json({"type": "error", "error": code, **details})
