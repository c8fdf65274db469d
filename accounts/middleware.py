import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponseNotFound
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header

from accounts.tenancy import host_name, is_platform_host, organization_for_host
from policies.tenancy import organization_context, person_context

SESSION_STARTED_KEY = "staff_session_started"
SESSION_SEEN_KEY = "staff_session_seen"

DEFAULT_IDLE_MINUTES = 15
DEFAULT_SESSION_HOURS = 10


def not_found():
    return HttpResponseNotFound("Not found", content_type="text/plain; charset=utf-8")


class TenantMiddleware:
    """Set ``request.organization`` from the host; the platform host gets the console."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        domain = host_name(request.get_host())
        if is_platform_host(domain):
            request.organization = None
            request.urlconf = settings.PLATFORM_URLCONF
        else:
            request.organization = organization_for_host(domain)
            if request.organization is None:
                return not_found()
        with organization_context(request.organization):
            return self.get_response(request)


class PersonMiddleware:
    """Run the request as its signed-in person: her own second-factor devices become readable.

    Sits between Django's authentication and django-otp's middleware, which
    loads the session's device.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with person_context(request.user if request.user.is_authenticated else None):
            return self.get_response(request)


def preferred_language(organization, accept_language):
    """Return the first of the browser's languages the organization offers, else its first one."""
    for code, _quality in parse_accept_lang_header(accept_language):
        base = code.split("-")[0].lower()
        if base in organization.languages:
            return base
    return organization.default_language


class OrganizationLocaleMiddleware(LocaleMiddleware):
    """Choose the language as Django does, among the organization's languages only.

    The address's prefix decides; without one, the browser's preference among
    the organization's languages, then the organization's first language (a
    French-first shelter opens in French). No cookie is read: the language is
    always in the address of survivor pages.
    """

    def process_request(self, request):
        organization = getattr(request, "organization", None)
        if organization is None:
            super().process_request(request)
            return
        language = translation.get_language_from_path(request.path_info) or preferred_language(
            organization, request.headers.get("accept-language", "")
        )
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


def staff_session_expired(session, organization, now=None):
    """Return True when a staff session is past its idle or absolute limit.

    The limits are the organization's (the platform's defaults on the
    platform host). A session without timestamps has not started as staff.
    """
    now = time.time() if now is None else now
    started = session.get(SESSION_STARTED_KEY)
    seen = session.get(SESSION_SEEN_KEY)
    if started is None or seen is None:
        return False
    idle_minutes = organization.staff_idle_minutes if organization else DEFAULT_IDLE_MINUTES
    session_hours = organization.staff_session_hours if organization else DEFAULT_SESSION_HOURS
    return now - seen > idle_minutes * 60 or now - started > session_hours * 3600


class StaffSessionExpiryMiddleware:
    """End a signed-in session after the organization's idle and absolute limits."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            organization = getattr(request, "organization", None)
            if staff_session_expired(request.session, organization):
                logout(request)
                messages.info(request, _("Your session ended. Please sign in again."))
                return redirect("accounts:login")
            now = time.time()
            request.session.setdefault(SESSION_STARTED_KEY, now)
            request.session[SESSION_SEEN_KEY] = now
        return self.get_response(request)
