from django.apps import AppConfig


class ShelterChatConfig(AppConfig):
    name = "shelterchat"
    verbose_name = "ShelterChat"
