from django.utils.translation import get_language


def organization(request):
    """Add the request's organization (None on the platform host) and its title in this language."""
    current = getattr(request, "organization", None)
    return {
        "organization": current,
        "neutral_title": current.neutral_title_for(get_language()) if current else "",
    }
