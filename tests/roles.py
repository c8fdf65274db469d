"""Step out of the application role for a moment, to look at what it cannot see."""

import contextlib

from django.conf import settings
from django.db import connection


@contextlib.contextmanager
def as_database_owner():
    """Run the block as the connecting role (the tests' superuser), outside every policy."""
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'SET ROLE "{settings.DATABASE_APP_ROLE}"')
