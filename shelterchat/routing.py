from channels.auth import AuthMiddlewareStack
from django.conf import settings
from django.urls import path

from accounts.consumers import StaffConsumer
from accounts.websocket import OTPWebsocketMiddleware, StaffSessionWebsocketMiddleware
from conversations.consumers import StaffChatConsumer, SurvivorChatConsumer
from groups.consumers import FacilitatorConsumer, ParticipantConsumer


def with_session(consumer):
    """The session, the user, the second-factor check and the session's limits."""
    return AuthMiddlewareStack(
        OTPWebsocketMiddleware(StaffSessionWebsocketMiddleware(consumer.as_asgi()))
    )


websocket_urlpatterns = [
    path("ws/staff/", with_session(StaffConsumer)),
    path("ws/staff/chat/", with_session(StaffChatConsumer)),
    # A survivor in crisis chat has no account and no session: nothing to look up.
    path("ws/connect/", SurvivorChatConsumer.as_asgi()),
    path("ws/groups/live/<uuid:link_id>/", with_session(ParticipantConsumer)),
    path("ws/staff/groups/<int:group_id>/live/", with_session(FacilitatorConsumer)),
]

if settings.BENCHMARK_BASELINE:
    from conversations.baseline import BareRelayConsumer

    websocket_urlpatterns.append(path("ws/bench/relay/<int:pair>/", BareRelayConsumer.as_asgi()))
