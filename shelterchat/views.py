"""The survivor's home page, and the error pages of organization hosts.

Every page a survivor can reach on an organization's host, an error
included, extends the survivor base: neutral title, quick exit, her language.
The platform host keeps Django's plain error pages.
"""

from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.csrf import csrf_failure as default_csrf_failure
from django.views.decorators.cache import never_cache

from accounts.selectors import weekly_hours
from conversations.selectors import chat_availability


@never_cache
def survivor_home(request):
    """Show survivors whether chat is open and staffed, its hours, and other ways to get help."""
    organization = request.organization
    return render(
        request,
        "survivor/home.html",
        {
            "availability": chat_availability(organization=organization),
            "week": weekly_hours(organization=organization),
        },
    )


def error_page(request, status, message):
    """Render an error as a survivor page; the language links lead to the home page."""
    response = render(
        request,
        "survivor/error.html",
        {"message": message, "page_path": reverse("survivor_home")},
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


def _on_organization_host(request):
    return getattr(request, "organization", None) is not None


def bad_request(request, exception):
    if not _on_organization_host(request):
        return defaults.bad_request(request, exception)
    return error_page(request, 400, _("This request could not be understood."))


def permission_denied(request, exception):
    if not _on_organization_host(request):
        return defaults.permission_denied(request, exception)
    return error_page(request, 403, _("This page is not open to you."))


def page_not_found(request, exception):
    if not _on_organization_host(request):
        return defaults.page_not_found(request, exception)
    return error_page(request, 404, _("There is no page at this address."))


def server_error(request):
    if not _on_organization_host(request):
        return defaults.server_error(request)
    return error_page(request, 500, _("Something went wrong on our side. Please try again."))


def csrf_failure(request, reason=""):
    if not _on_organization_host(request):
        return default_csrf_failure(request, reason)
    return error_page(
        request, 403, _("This form had expired. Please go back, reload the page and try again.")
    )


def method_not_allowed(request):
    return error_page(
        request,
        405,
        _("This page cannot be opened this way. Please start again from the home page."),
    )
