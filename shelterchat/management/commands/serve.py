"""Serve the project with daphne, without daphne's access log.

daphne's access log and ``runserver`` print every client's address; this
command starts daphne's server with no access logger at all, letting go of
each connection it is done with (``shelterchat.server``).
"""

import gc

from daphne.endpoints import build_endpoint_description_strings
from django.core.management.base import BaseCommand

from shelterchat.server import ReleasingServer


class Command(BaseCommand):
    help = "Serve HTTP and WebSockets with daphne, writing no client address anywhere."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host, port, **options):
        from shelterchat.asgi import application

        # What is loaded by now lives as long as the process: keep it out of the
        # collector's full passes, which would otherwise walk all of it each time
        # (under chat load: 50-90 ms pauses, 15-40 ms with it left out).
        gc.freeze()
        self.stdout.write(f"Serving on http://{host}:{port}/ (Ctrl+C to stop)")
        ReleasingServer(
            application=application,
            endpoints=build_endpoint_description_strings(host=host, port=port),
            action_logger=None,
            verbosity=0,
            proxy_forwarded_address_header=None,
        ).run()
