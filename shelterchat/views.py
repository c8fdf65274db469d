from django.shortcuts import render
from django.views.decorators.cache import never_cache

from accounts.selectors import opening_hours_list, organization_is_open


@never_cache
def survivor_home(request):
    """Show survivors whether chat is open, its hours, and other ways to get help."""
    organization = request.organization
    return render(
        request,
        "survivor/home.html",
        {
            "is_open": organization_is_open(organization=organization),
            "hours": opening_hours_list(organization=organization),
        },
    )
