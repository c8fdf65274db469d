"""PostgreSQL refuses cross-tenant rows even when a query forgets its organization."""

import asyncio
import random

import pytest
from channels.db import database_sync_to_async
from django.db import DatabaseError, connection, transaction

from policies.models import AuditEntry
from policies.tenancy import (
    activate,
    organization_context,
    tables_missing_policy,
    tenant_tables,
)
from tests.factories import client_for
from tests.tenant_rows import tenant_rows_create

TABLES = sorted(model._meta.db_table for model in tenant_tables())


def _count(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


@pytest.fixture
def two_tenants(organization, other_organization):
    tenant_rows_create(organization)
    tenant_rows_create(other_organization)
    return organization, other_organization


@pytest.mark.django_db
def test_tests_run_as_the_application_role():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper OR rolbypassrls FROM pg_roles "
            "WHERE rolname = current_user"
        )
        user, bypasses_policies = cursor.fetchone()
    assert user == "shelterchat_app"
    assert not bypasses_policies


@pytest.mark.django_db
def test_every_tenant_table_has_forced_policy():
    assert len(TABLES) >= 9
    assert tables_missing_policy() == []


@pytest.mark.django_db
def test_a_table_without_policy_is_reported():
    table = TABLES[0]
    with connection.cursor() as cursor:
        # The test database's owner may do this; the application role may not.
        cursor.execute("RESET ROLE")
        cursor.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
        try:
            assert tables_missing_policy() == [table]
        finally:
            cursor.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
            cursor.execute('SET ROLE "shelterchat_app"')


@pytest.mark.django_db
@pytest.mark.parametrize("table", TABLES)
def test_other_tenants_rows_are_untouchable(two_tenants, table):
    mine, theirs = two_tenants
    with organization_context(theirs):
        assert _count(f'SELECT count(*) FROM "{table}"') >= 1, "add a row in tests/tenant_rows.py"
    with organization_context(mine):
        assert (
            _count(f'SELECT count(*) FROM "{table}" WHERE organization_id = %s', [theirs.pk]) == 0
        )
        assert _count(f'SELECT count(*) FROM "{table}"') >= 1
        with connection.cursor() as cursor:
            cursor.execute(
                f'UPDATE "{table}" SET organization_id = organization_id '
                "WHERE organization_id = %s",
                [theirs.pk],
            )
            assert cursor.rowcount == 0
            cursor.execute(f'DELETE FROM "{table}" WHERE organization_id = %s', [theirs.pk])
            assert cursor.rowcount == 0
    with organization_context(theirs):
        assert _count(f'SELECT count(*) FROM "{table}"') >= 1


@pytest.mark.django_db
@pytest.mark.parametrize("table", TABLES)
def test_nothing_visible_without_an_organization(two_tenants, table):
    with organization_context(None):
        assert _count(f'SELECT count(*) FROM "{table}"') == 0


@pytest.mark.django_db
@pytest.mark.parametrize("table", TABLES)
def test_insert_or_move_into_another_tenant_is_refused(two_tenants, table):
    mine, theirs = two_tenants
    with organization_context(mine), connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{table}" LIMIT 1')
        columns = [column.name for column in cursor.description if column.name != "id"]
        row = dict(zip([c.name for c in cursor.description], cursor.fetchone(), strict=True))
        values = [theirs.pk if column == "organization_id" else row[column] for column in columns]
        if table == "accounts_organizationhostname":
            values[columns.index("hostname")] = "new.example"
        quoted = ", ".join(f'"{column}"' for column in columns)
        placeholders = ", ".join(["%s"] * len(columns))
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            cursor.execute(
                f'INSERT INTO "{table}" ({quoted}) VALUES ({placeholders})',
                [_adapt(value) for value in values],
            )
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            cursor.execute(
                f'UPDATE "{table}" SET organization_id = %s WHERE id = %s', [theirs.pk, row["id"]]
            )


def _adapt(value):
    from psycopg.types.json import Jsonb

    return Jsonb(value) if isinstance(value, list | dict) else value


@pytest.mark.django_db
def test_hostname_lookup_sees_only_the_host_being_resolved(two_tenants):
    with organization_context(None, host="harbour.test"):
        assert _count('SELECT count(*) FROM "accounts_organizationhostname"') == 1
        assert _count('SELECT count(*) FROM "accounts_membership"') == 0


@pytest.mark.django_db(transaction=True)
def test_requests_of_two_organizations_on_one_persistent_connection(two_tenants, settings):
    mine, theirs = two_tenants
    from accounts.models import Role
    from tests.factories import staff_create

    admins = {org.pk: staff_create(org, [Role.ORG_ADMIN]) for org in (mine, theirs)}
    clients = {org.pk: client_for(org, admins[org.pk]) for org in (mine, theirs)}
    with organization_context(mine):
        AuditEntry.objects.create(organization=mine, action="only.mine")
    with organization_context(theirs):
        AuditEntry.objects.create(organization=theirs, action="only.theirs")
    connection.close()
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 600
    connection.settings_dict["CONN_MAX_AGE"] = 600
    try:
        backend_pids = set()
        for turn in range(12):
            org = (mine, theirs)[turn % 2]
            page = clients[org.pk].get("/staff/audit/").content.decode()
            assert ("only.mine" in page) == (org == mine)
            assert ("only.theirs" in page) == (org == theirs)
            with connection.connection.cursor() as raw:
                raw.execute("SELECT pg_backend_pid(), current_setting('app.organization_id')")
                pid, left_behind = raw.fetchone()
            backend_pids.add(pid)
            assert left_behind == ""
        assert len(backend_pids) == 1
    finally:
        connection.settings_dict["CONN_MAX_AGE"] = 0
        connection.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_consumer_thread_pool_never_mixes_organizations(organization, other_organization):
    def seed(org, count):
        with organization_context(org):
            AuditEntry.objects.bulk_create(
                AuditEntry(organization=org, action=f"seed.{org.slug}") for _ in range(count)
            )

    await database_sync_to_async(seed)(organization, 3)
    await database_sync_to_async(seed)(other_organization, 5)

    @database_sync_to_async
    def visible_actions():
        return set(AuditEntry.objects.values_list("action", flat=True)), len(
            AuditEntry.objects.all()
        )

    async def consumer_turn(org, expected):
        activate(org)
        await asyncio.sleep(random.random() / 100)
        actions, count = await visible_actions()
        assert actions == {f"seed.{org.slug}"}
        assert count == expected

    tasks = []
    for turn in range(40):
        org, expected = ((organization, 3), (other_organization, 5))[turn % 2]
        tasks.append(asyncio.create_task(consumer_turn(org, expected)))
    await asyncio.gather(*tasks)

    async def no_tenant():
        activate(None)
        return await visible_actions()

    assert await asyncio.create_task(no_tenant()) == (set(), 0)


def _setting():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.organization_id', true)")
        return cursor.fetchone()[0]


class Refused(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_organization_set_inside_a_transaction_lapses_with_it(organization, other_organization):
    """Set once per transaction, and set again after a commit, a rollback or a savepoint's."""
    mine, theirs = str(organization.pk), str(other_organization.pk)
    with organization_context(organization):
        assert _setting() == mine
        with transaction.atomic():
            assert _setting() == mine
            with organization_context(other_organization):
                assert _setting() == theirs
                assert _setting() == theirs
        with organization_context(other_organization), transaction.atomic():
            assert _setting() == theirs
        assert _setting() == mine
        with transaction.atomic():
            savepoint = transaction.savepoint()
            with organization_context(other_organization):
                assert _setting() == theirs
                transaction.savepoint_rollback(savepoint)
                assert _setting() == theirs
        with organization_context(other_organization):
            try:
                with transaction.atomic():
                    assert _setting() == theirs
                    raise Refused
            except Refused:
                pass
            with transaction.atomic():
                assert _setting() == theirs
        assert _setting() == mine


def test_stock_postgresql_backend_is_refused():
    """Only policies.postgresql forgets a transaction's organization when it ends."""
    from django.core.exceptions import ImproperlyConfigured
    from django.db.backends.postgresql.base import DatabaseWrapper

    from policies.tenancy import _install_wrapper

    stock = DatabaseWrapper({**connection.settings_dict, "ENGINE": "django.db.backends.postgresql"})
    with pytest.raises(ImproperlyConfigured):
        _install_wrapper(sender=None, connection=stock)
