from django.urls import path

from conversations import views

# Survivor pages, under the language prefix.
urlpatterns = [
    path("connect/", views.chat_entry, name="entry"),
    path("connect/questions/", views.chat_questions, name="questions"),
    path("connect/chat/", views.chat_page, name="chat"),
    path("connect/ended/", views.chat_ended, name="ended"),
]

staff_patterns = [
    path("", views.console, name="console"),
    path("canned/", views.canned_messages, name="canned"),
    path("questions/", views.optional_questions, name="questions_admin"),
]
