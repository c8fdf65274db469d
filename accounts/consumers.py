"""The staff socket: every staff page's live channel, closed when access ends."""

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from accounts.selectors import membership_get
from shelterchat import frames
from shelterchat.consumers import JsonObjectConsumer

# Close code sent when a staff member may no longer be here.
CLOSE_ACCESS_ENDED = 4403


def staff_group(organization_id, user_id):
    """Return the channel-layer group of one staff member's sockets in one organization."""
    return f"staff.{organization_id}.{user_id}"


def staff_disconnect(*, organization, user_id):
    """Close every open staff socket of the user in the organization."""
    async_to_sync(get_channel_layer().group_send)(
        staff_group(organization.pk, user_id), {"type": "staff.disconnect"}
    )


class StaffConsumer(JsonObjectConsumer):
    """Accepts only verified staff of the socket's organization."""

    actions = {frames.Ping: "act_ping"}

    async def connect(self):
        user = self.scope["user"]
        organization = self.scope["organization"]
        if not user.is_authenticated or not user.is_verified():
            await self.close(code=CLOSE_ACCESS_ENDED)
            return
        membership = await database_sync_to_async(membership_get)(
            organization=organization, user=user
        )
        if membership is None:
            await self.close(code=CLOSE_ACCESS_ENDED)
            return
        self.group = staff_group(organization.pk, user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "roles": membership.roles})

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def staff_disconnect(self, event):
        await self.close(code=CLOSE_ACCESS_ENDED)
