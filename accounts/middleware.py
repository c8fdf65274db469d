"""Tenancy and staff sessions on the HTTP side.

A staff session belongs to the host it was signed in on and ends after the
organization's idle and absolute limits; accounts.websocket applies the same
rules to sockets.
"""

import time
from importlib import import_module

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, login, logout
from django.contrib.auth.models import AnonymousUser
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
SESSION_ORGANIZATION_KEY = "staff_session_organization"
# What SESSION_ORGANIZATION_KEY holds for a session of the platform host.
PLATFORM_SESSION = 0

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

    Sits between Django's authentication (after ``SessionHostMiddleware``) and
    django-otp's middleware, which loads the session's device.
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


def session_organization_id(organization):
    return organization.pk if organization is not None else PLATFORM_SESSION


def staff_session_start(request, user):
    """Sign ``user`` in on this host only, in a new session.

    The session is flushed first, so nothing of an earlier one (a second factor
    verified on another host, above all) carries over.
    """
    request.session.flush()
    login(request, user)
    request.session[SESSION_ORGANIZATION_KEY] = session_organization_id(request.organization)
    request.session[SESSION_STARTED_KEY] = request.session[SESSION_SEEN_KEY] = time.time()


def session_made_here(session, organization):
    """Return True when a signed-in session was made on ``organization``'s host."""
    return session.get(SESSION_ORGANIZATION_KEY) == session_organization_id(organization)


class SessionHostMiddleware:
    """Give a request that presents another host's signed-in session a new, empty one.

    Session cookies are host-only, but a session id presented on another
    organization's host (or the platform's) must not be honoured there, nor
    be ended or changed from there.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if SESSION_KEY in request.session and not session_made_here(
            request.session, request.organization
        ):
            request.session = import_module(settings.SESSION_ENGINE).SessionStore()
            request.user = AnonymousUser()
        return self.get_response(request)


def staff_session_deadline(session, organization):
    """Return when a staff session ends (seconds since the epoch), or None if it never began.

    It ends at the organization's idle limit after it was last seen, or at its
    absolute limit after sign-in, whichever comes first (the platform's
    defaults on the platform host).
    """
    started = session.get(SESSION_STARTED_KEY)
    seen = session.get(SESSION_SEEN_KEY)
    if started is None or seen is None:
        return None
    idle_minutes = organization.staff_idle_minutes if organization else DEFAULT_IDLE_MINUTES
    session_hours = organization.staff_session_hours if organization else DEFAULT_SESSION_HOURS
    return min(seen + idle_minutes * 60, started + session_hours * 3600)


def staff_session_expired(session, organization):
    """Return True when a signed-in session is past its limits, or has none."""
    deadline = staff_session_deadline(session, organization)
    return deadline is None or time.time() > deadline


def staff_session_end(request):
    """Sign out, and close the person's open staff sockets in this organization at once.

    Her sockets listen on the channel layer, so those served by other
    processes close too.
    """
    from accounts.consumers import staff_disconnect

    user_id = request.user.pk
    logout(request)
    if request.organization is not None and user_id is not None:
        staff_disconnect(organization=request.organization, user_id=user_id)


class StaffSessionExpiryMiddleware:
    """End a signed-in session after the organization's idle and absolute limits."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            if staff_session_expired(request.session, request.organization):
                staff_session_end(request)
                messages.info(request, _("Your session ended. Please sign in again."))
                return redirect("accounts:login")
            request.session[SESSION_SEEN_KEY] = time.time()
        return self.get_response(request)
