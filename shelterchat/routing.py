from django.conf import settings
from django.urls import path

from accounts.consumers import StaffConsumer
from conversations.consumers import StaffChatConsumer, SurvivorChatConsumer
from groups.consumers import FacilitatorConsumer, ParticipantConsumer

websocket_urlpatterns = [
    path("ws/staff/", StaffConsumer.as_asgi()),
    path("ws/staff/chat/", StaffChatConsumer.as_asgi()),
    path("ws/connect/", SurvivorChatConsumer.as_asgi()),
    path("ws/groups/live/<uuid:link_id>/", ParticipantConsumer.as_asgi()),
    path("ws/staff/groups/<int:group_id>/live/", FacilitatorConsumer.as_asgi()),
]

if settings.BENCHMARK_BASELINE:
    from conversations.baseline import BareRelayConsumer

    websocket_urlpatterns.append(path("ws/bench/relay/<int:pair>/", BareRelayConsumer.as_asgi()))
