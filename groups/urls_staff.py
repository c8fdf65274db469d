"""Moderators' pages of forums and group chats, under ``/staff/groups/``."""

from django.urls import path

from groups import views_staff as views

app_name = "groups_staff"

urlpatterns = [
    path("", views.group_list, name="list"),
    path("new/", views.group_create, name="group_create"),
    path("agreement/", views.agreement_publish, name="agreement"),
    path("<int:group_id>/", views.group_detail, name="group"),
    path("<int:group_id>/edit/", views.group_edit, name="group_edit"),
    path(
        "<int:group_id>/invites/<int:invite_id>/revoke/",
        views.invite_revoke,
        name="invite_revoke",
    ),
    path(
        "<int:group_id>/members/<int:member_id>/<slug:action>/",
        views.member_action,
        name="member_action",
    ),
    path("<int:group_id>/sessions/new/", views.live_session_create, name="session_create"),
    path(
        "<int:group_id>/sessions/<int:session_id>/delete/",
        views.live_session_delete,
        name="session_delete",
    ),
    path(
        "<int:group_id>/sessions/<int:session_id>/invite/",
        views.live_session_invite,
        name="session_invite",
    ),
    path("<int:group_id>/live/", views.live_console, name="console"),
    path("<int:group_id>/queue/", views.queue, name="queue"),
    path("<int:group_id>/forum/", views.forum, name="forum"),
    path("<int:group_id>/forum/new/", views.topic_new, name="topic_new"),
    path("<int:group_id>/forum/t/<uuid:thread>/", views.thread, name="thread"),
    path(
        "<int:group_id>/posts/<uuid:post_id>/<slug:action>/",
        views.post_action,
        name="post_action",
    ),
]
