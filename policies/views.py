from django.contrib.auth import logout
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from accounts.access import staff_required
from accounts.models import Role
from policies.selectors import audit_entry_list, retention_windows


@never_cache
def quick_exit(request):
    """End the survivor's session, clear what the browser holds for us, go somewhere neutral."""
    logout(request)
    organization = request.organization
    language = request.GET.get("lang")
    if language not in organization.languages:
        language = organization.default_language
    response = HttpResponseRedirect(organization.quick_exit_url_for(language))
    response["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


@never_cache
@staff_required(Role.ORG_ADMIN)
def audit_log(request):
    return render(
        request,
        "policies/audit_log.html",
        {
            "entries": audit_entry_list(organization=request.organization),
            "windows": retention_windows(organization=request.organization),
        },
    )
