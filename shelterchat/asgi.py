"""The ASGI application: HTTP through Django, WebSockets through Channels.

Both sides first lose the client's address and identifying headers
(policies.identity); WebSockets then pass the tenancy and origin check and, where the socket uses
them (shelterchat.routing), the session, user and second-factor check.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shelterchat.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from accounts.websocket import TenantWebsocketMiddleware  # noqa: E402
from policies.identity import ClientIdentityStripper  # noqa: E402
from shelterchat.routing import websocket_urlpatterns  # noqa: E402

application = ClientIdentityStripper(
    ProtocolTypeRouter(
        {
            # Production serves /static/ from the reverse proxy; the demo from here.
            "http": ASGIStaticFilesHandler(django_asgi_app) if settings.DEBUG else django_asgi_app,
            "websocket": TenantWebsocketMiddleware(URLRouter(websocket_urlpatterns)),
        }
    )
)
