from django.urls import path

from accounts.consumers import StaffConsumer
from conversations.consumers import StaffChatConsumer, SurvivorChatConsumer

websocket_urlpatterns = [
    path("ws/staff/", StaffConsumer.as_asgi()),
    path("ws/staff/chat/", StaffChatConsumer.as_asgi()),
    path("ws/connect/", SurvivorChatConsumer.as_asgi()),
]
