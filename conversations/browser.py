"""The one mark crisis chat leaves in a survivor's browser, and only while it must.

The chat page sets a cookie holding a random token (HttpOnly, SameSite=Strict,
for ``LIVE_SECONDS`` at most); the socket reads it when she starts a chat,
and the conversation keeps only its hash, erased when the chat ends. A
worker's block keeps that hash with the block's expiry, and the chat's end
page then keeps the cookie exactly as long as the block; any other end
deletes it. Nothing else of hers is stored in her browser beyond the tab's
own chat (sessionStorage). The quick exit's Clear-Site-Data removes the
cookie, a block included: a quick exit must never be held against her.
"""

import secrets

from django.conf import settings
from django.http.cookie import parse_cookie

COOKIE = "visit"
# Longer than any chat; the end of the chat deletes it sooner.
LIVE_SECONDS = 12 * 60 * 60


def request_token(request):
    return request.COOKIES.get(COOKIE, "")


def scope_token(scope):
    """Return the token from a WebSocket handshake's cookies ('' when there is none)."""
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            return parse_cookie(value.decode("latin-1")).get(COOKIE, "")
    return ""


def token_keep(response, request, seconds=LIVE_SECONDS):
    """Keep the browser's token (a new one if it has none) for ``seconds`` more."""
    response.set_cookie(
        COOKIE,
        request_token(request) or secrets.token_urlsafe(32),
        max_age=seconds,
        httponly=True,
        samesite="Strict",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def token_forget(response):
    response.delete_cookie(COOKIE, samesite="Strict")
