"""Survivors' forum and group chat pages, under the language prefix (``/en/groups/…``)."""

from django.urls import path

from groups import views

app_name = "groups"

urlpatterns = [
    path("", views.home, name="home"),
    path("join/<str:token>/", views.join, name="join"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("agreement/", views.agreement, name="agreement"),
    path("leave/", views.leave, name="leave"),
    path("forum/", views.forum, name="forum"),
    path("forum/new/", views.topic_new, name="topic_new"),
    path("forum/t/<uuid:thread>/", views.thread, name="thread"),
    path("forum/p/<uuid:post_id>/edit/", views.post_edit, name="post_edit"),
    path("forum/p/<uuid:post_id>/delete/", views.post_delete, name="post_delete"),
    path("forum/p/<uuid:post_id>/report/", views.post_report, name="post_report"),
    path("live/<uuid:link_id>/", views.live, name="live"),
    path("live/<uuid:link_id>/room/", views.live_room, name="live_room"),
    path("live/<uuid:link_id>/left/", views.live_left, name="live_left"),
    path("live/invite/<str:token>/", views.live_invite, name="live_invite"),
]
