"""Resolve the organization a request belongs to from its host.

Resolution fails closed: a host that is neither the platform's nor one of an
active organization's hostnames reaches nothing.
"""

from django.conf import settings
from django.http.request import split_domain_port

from accounts.models import Organization
from policies.tenancy import organization_context


def host_name(host):
    """Return the lower-case domain part of a ``Host`` header value."""
    domain, _port = split_domain_port(host)
    return domain.lower()


def is_platform_host(domain):
    return domain == settings.PLATFORM_DOMAIN.lower()


def organization_for_host(domain):
    """Return the active organization reached at ``domain``, or None."""
    if not domain:
        return None
    with organization_context(None, host=domain):
        return Organization.objects.filter(hostnames__hostname=domain, is_active=True).first()
