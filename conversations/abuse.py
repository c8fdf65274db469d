"""Abuse control without knowing who anyone is.

The ASGI door (policies.identity) turns the client's address into a keyed
hash whose key changes every hour, then forgets the address. Chats started
under one hash are counted in the cache (Redis in production) with an expiry;
nothing of it reaches the database or a log. The limit is generous, because
many survivors may share one address (a shelter's or a library's computers).
"""

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 3600


def chat_start_allowed(*, organization, client_bucket):
    """Count a chat start from ``client_bucket``; return False past the hourly limit."""
    if not client_bucket:
        return True
    key = f"chat-starts:{organization.pk}:{client_bucket}"
    cache.add(key, 0, timeout=WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=WINDOW_SECONDS)
        count = 1
    return count <= settings.CHAT_STARTS_PER_HOUR_PER_ADDRESS
