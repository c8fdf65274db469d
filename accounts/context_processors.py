from django.conf import settings
from django.urls import translate_url
from django.utils.translation import get_language_info


def organization(request):
    """Add the request's organization and links to the same page in its other languages."""
    current = getattr(request, "organization", None)
    offered = (current.languages if current else None) or [code for code, _ in settings.LANGUAGES]
    known = dict(settings.LANGUAGES)
    return {
        "organization": current,
        "language_links": [
            (code, get_language_info(code)["name_local"], translate_url(request.path, code))
            for code in offered
            if code in known
        ],
    }
