"""A request from 203.0.113.77 leaves no trace of that address or its user agent anywhere."""

import io
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.test import Client

from policies.tenancy import organization_context
from tests.factories import client_for, host_of
from tests.roles import as_database_owner

ADDRESS = "203.0.113.77"
AGENT = "TrackerPhone/9.9 (unique-agent-string)"
IDENTITY = {
    "REMOTE_ADDR": ADDRESS,
    "HTTP_USER_AGENT": AGENT,
    "HTTP_X_FORWARDED_FOR": ADDRESS,
    "HTTP_X_REAL_IP": ADDRESS,
}


@pytest.fixture
def captured_logs():
    """Point every configured log handler at one buffer, at the most verbose level."""
    buffer = io.StringIO()
    loggers = [logging.getLogger()] + [
        logging.getLogger(name) for name in settings.LOGGING.get("loggers", {})
    ]
    saved = []
    for logger in loggers:
        saved.append((logger, logger.level))
        logger.setLevel(logging.DEBUG)
        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler):
                saved.append((handler, handler.stream))
                handler.setStream(buffer)
    yield buffer
    for item, value in saved:
        if isinstance(item, logging.Handler):
            item.setStream(value)
        else:
            item.setLevel(value)


def _database_text():
    """Return every text value in every table of the database, joined, policies aside."""
    chunks = []
    with as_database_owner(), connection.cursor() as cursor:
        for model in apps.get_models():
            columns = [
                field.column
                for field in model._meta.concrete_fields
                if field.get_internal_type()
                in ("CharField", "TextField", "JSONField", "GenericIPAddressField")
            ]
            if columns:
                casts = ", ".join(f'CAST("{column}" AS text)' for column in columns)
                cursor.execute(f'SELECT {casts} FROM "{model._meta.db_table}"')
                chunks.extend(str(value) for row in cursor.fetchall() for value in row)
        from django.contrib.sessions.models import Session

        chunks.extend(str(session.get_decoded()) for session in Session.objects.all())
    return "\n".join(chunks)


@pytest.mark.django_db
def test_no_trace_in_logs_or_database(organization, worker, captured_logs):
    anonymous = Client(HTTP_HOST=host_of(organization), **IDENTITY)
    anonymous.get("/en/")
    anonymous.get("/en/no-such-page/")
    anonymous.get("/exit/")
    Client(HTTP_HOST="unknown.test", **IDENTITY).get("/")
    Client(HTTP_HOST="bad host!", **IDENTITY).get("/")
    Client(HTTP_HOST=host_of(organization), enforce_csrf_checks=True, **IDENTITY).post(
        "/staff/login/", {"username": "x", "password": "y"}
    )
    staff = client_for(organization, worker)
    staff.get("/staff/", **IDENTITY)
    staff.post("/staff/login/", {"username": worker.username, "password": "wrong"}, **IDENTITY)

    logged = captured_logs.getvalue()
    assert "Not Found" in logged and "Forbidden" in logged  # the loggers did write
    assert ADDRESS not in logged
    assert "TrackerPhone" not in logged
    with organization_context(organization):
        stored = _database_text()
    assert ADDRESS not in stored
    assert "TrackerPhone" not in stored


@pytest.mark.django_db
def test_views_never_see_the_address(organization, captured_logs):
    from django.test import RequestFactory

    from policies.middleware import ClientIdentityStripMiddleware

    seen = {}

    def view(request):
        seen.update(request.META)
        return None

    ClientIdentityStripMiddleware(view)(RequestFactory().get("/", **IDENTITY))
    assert ADDRESS not in str(seen.values())
    assert AGENT not in str(seen.values())


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_served_by_daphne_nothing_of_the_client_is_written(organization):
    """The project's way of starting daphne writes no address or user agent, even at DEBUG."""
    port = _free_port()
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
        f"{database['NAME']}",
        "DATABASE_SET_ROLE": "on",
        "LOG_LEVEL": "DEBUG",
        "PYTHONUNBUFFERED": "1",
    }
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        statuses = []
        for host, path in (
            (host_of(organization), "/en/"),
            (host_of(organization), "/nothing/"),
            ("unknown.test", "/"),
        ):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}",
                headers={"Host": host, "User-Agent": AGENT, "X-Forwarded-For": ADDRESS},
            )
            try:
                statuses.append(urllib.request.urlopen(request, timeout=10).status)  # noqa: S310
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
        assert statuses == [200, 404, 404]
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=20)
    assert "Not Found" in output  # the server's logging is live
    # The client connected from 127.0.0.1; only the server's own banner may name it.
    client_lines = output.replace(f"http://127.0.0.1:{port}/", "")
    assert "127.0.0.1" not in client_lines
    assert ADDRESS not in output
    assert "TrackerPhone" not in output
