import pytest
from django.conf import settings
from django.db import connection, connections

from accounts.models import Role
from policies.tenancy import apply_row_level_security
from tests.factories import organization_create, staff_create

# The quick exit's neutral destination, for every browser test that leaves.
pytest_plugins = ["tests.browser"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Migrate as the owner, then run every test as the application role under the policies."""
    role = settings.DATABASE_APP_ROLE
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE ROLE "{role}" NOLOGIN')
        apply_row_level_security()
        # Only for the flush between transactional tests; the application never truncates.
        cursor.execute(f'GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "{role}"')
    settings.DATABASE_SET_ROLE = True
    connections.close_all()
    yield
    # The owner drops the test database, once the connections that consumer
    # threads left open are gone.
    settings.DATABASE_SET_ROLE = False
    connections.close_all()
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    connections.close_all()


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """Give each test its own channel layer: a layer's locks belong to one event loop."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def organization(db):
    return organization_create("harbour")


@pytest.fixture
def other_organization(db):
    return organization_create("elsewhere")


@pytest.fixture
def org_admin(organization):
    return staff_create(organization, [Role.ORG_ADMIN])


@pytest.fixture
def other_admin(other_organization):
    return staff_create(other_organization, [Role.ORG_ADMIN])


@pytest.fixture
def worker(organization):
    return staff_create(organization, [Role.SUPPORT_WORKER])
