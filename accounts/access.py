"""Who may reach staff pages and sockets: a verified second factor, then a role.

Absent and someone else's answer the same way (404), so probing ids teaches
nothing.
"""

import functools

from django.http import Http404
from django.shortcuts import redirect

from accounts.selectors import membership_get


def second_factor_redirect(request):
    """Return a redirect to the second-factor check, or None when verified.

    Enrolment happens only inside an invitation's acceptance, never here.
    """
    if request.user.is_verified():
        return None
    return redirect("accounts:two_factor_verify")


def staff_required(*roles):
    """Let through verified staff of the request's organization holding one of ``roles``.

    With no roles given, any active membership will do. Sets ``request.membership``.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect("accounts:login")
            pending = second_factor_redirect(request)
            if pending:
                return pending
            membership = membership_get(organization=request.organization, user=request.user)
            if membership is None or (roles and not membership.has_role(*roles)):
                raise Http404
            request.membership = membership
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def operator_required(view):
    """Let through the verified platform operator, on the platform host only."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect("accounts:login")
        pending = second_factor_redirect(request)
        if pending:
            return pending
        if not request.user.is_operator or request.organization is not None:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper
