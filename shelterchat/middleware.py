from django.conf import settings

from shelterchat.views import method_not_allowed


def content_security_policy_header(policy):
    return "; ".join(f"{directive} {' '.join(sources)}" for directive, sources in policy.items())


class ContentSecurityPolicyMiddleware:
    """Send the Content-Security-Policy and Permissions-Policy on every response."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.csp = content_security_policy_header(settings.CONTENT_SECURITY_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.csp)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class SurvivorMethodNotAllowedMiddleware:
    """Answer a refused method on an organization's host with a survivor page.

    Django has no handler for 405: views decorated with ``require_POST`` return
    a bare, empty response, which would leave her on a browser error page with
    no quick exit.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 405 and getattr(request, "organization", None) is not None:
            allowed = response.get("Allow")
            response = method_not_allowed(request)
            if allowed:
                response["Allow"] = allowed
        return response
