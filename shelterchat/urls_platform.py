"""URLs of the platform host: the operator console and nothing else."""

from django.urls import include, path

from accounts import console
from accounts.urls import sign_in_patterns

operator_patterns = [
    path("", console.home, name="home"),
    path("organizations/<int:organization_id>/", console.organization_detail, name="organization"),
    path(
        "organizations/<int:organization_id>/active/",
        console.organization_active,
        name="organization_active",
    ),
    path(
        "organizations/<int:organization_id>/hostnames/<int:hostname_id>/remove/",
        console.hostname_remove,
        name="hostname_remove",
    ),
]

urlpatterns = [
    path("", include((operator_patterns, "operator"))),
    path("account/", include((sign_in_patterns, "accounts"))),
]
