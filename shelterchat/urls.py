"""URLs of an organization's hosts: survivor pages (language-prefixed) and staff pages."""

from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path

from conversations.urls import staff_patterns as chat_staff_patterns
from conversations.urls import urlpatterns as chat_patterns
from policies.views import audit_log, quick_exit
from shelterchat.views import survivor_home

urlpatterns = [
    path("exit/", quick_exit, name="quick_exit"),
    path("staff/", include("accounts.urls")),
    path("staff/audit/", audit_log, name="audit_log"),
    path("staff/groups/", include("groups.urls_staff")),
    path("staff/chat/", include((chat_staff_patterns, "conversations"))),
]

# The language is in the address, not in a cookie, so switching it stores nothing.
urlpatterns += i18n_patterns(
    path("", survivor_home, name="survivor_home"),
    path("groups/", include("groups.urls_survivor")),
    path("", include((chat_patterns, "chat"))),
)

handler400 = "shelterchat.views.bad_request"
handler403 = "shelterchat.views.permission_denied"
handler404 = "shelterchat.views.page_not_found"
handler500 = "shelterchat.views.server_error"
