from django.urls import path

from accounts import views

app_name = "accounts"

# Signing in, on an organization's host and on the platform host alike.
sign_in_patterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("two-factor/", views.two_factor_verify, name="two_factor_verify"),
]

urlpatterns = [
    *sign_in_patterns,
    path("two-factor/backup-codes/", views.backup_codes_new, name="backup_codes_new"),
    path("", views.staff_home, name="home"),
    path("settings/", views.organization_settings, name="settings"),
    path("team/", views.staff_list, name="staff"),
    path("team/<int:membership_id>/", views.membership_edit, name="membership_edit"),
    path(
        "team/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("team/recovery-code/", views.recovery_code_new, name="recovery_code_new"),
    path("join/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
