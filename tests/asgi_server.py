"""Run the project's own server (``manage.py serve``: daphne) against the test database."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """A daphne process serving the test database; it can be killed and started again."""

    def __init__(self, port=None, **env):
        self.port = port or free_port()
        database = connection.settings_dict
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}",
            "DATABASE_SET_ROLE": "on",
            "DEBUG": "on",
            "PYTHONUNBUFFERED": "1",
            "CHAT_SWEEP_SECONDS": "1",
            **env,
        }
        self.process = None
        self.output = []

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(self.port)],
            cwd=Path(settings.BASE_DIR),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(self.process.stdout.read()) from None
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def kill(self):
        """Stop it the hard way, as a crash would."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.output.append(self.process.stdout.read())

    def log(self):
        return "".join(self.output)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                out, _ = self.process.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                out, _ = self.process.communicate()
            self.output.append(out)
