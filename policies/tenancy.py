"""The current organization, as PostgreSQL's row-level security sees it.

Every table with an ``organization`` column carries a policy (applied by
``apply_row_level_security`` after each migration) that shows and accepts only
rows of the organization named by the ``app.organization_id`` setting. With
no organization set, nothing of any tenant is visible.

The current organization lives in a context variable, so it follows a request
or a consumer into asgiref's thread pool. Before each query an execute wrapper
brings the connection's setting in line with it: one ``set_config`` when the
organization changes, at session level outside transactions (a persistent
connection then carries no stale value into the next request, because the
next request's first query corrects it) and transaction-local inside one (a
rollback can then not silently revert it).

Work that spans organizations goes through ``all_organizations_as_operator``,
which visits them one at a time and records each visit in the audit log.
"""

import contextlib
import contextvars
import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.backends.signals import connection_created
from psycopg.pq import TransactionStatus

logger = logging.getLogger(__name__)

SETTING = "app.organization_id"
HOST_SETTING = "app.host"

_current = contextvars.ContextVar("shelterchat_organization", default=("", ""))


def current_organization_id():
    return _current.get()[0]


@contextlib.contextmanager
def organization_context(organization, host=""):
    """Run the block with ``organization`` (or None: no tenant) as the current one."""
    token = _current.set((str(organization.pk) if organization else "", host))
    try:
        yield
    finally:
        _current.reset(token)
        _realign_open_connections()


def activate(organization, host=""):
    """Set the current organization for the rest of this context (a consumer's task)."""
    _current.set((str(organization.pk) if organization else "", host))


def _tenant_wrapper(execute, sql, params, many, context):
    connection = context["connection"]
    wanted = _current.get()
    # In a failed transaction only a rollback can run; it needs no tenant.
    failed = connection.connection.info.transaction_status == TransactionStatus.INERROR
    if not failed and _in_effect(connection) != wanted:
        if connection.in_atomic_block:
            _set_tenant(connection, wanted, is_local=True)
            # Forgotten by the backend when the transaction or savepoint ends.
            connection.tenant_local = wanted
        else:
            _set_tenant(connection, wanted, is_local=False)
            connection.tenant_setting = wanted
    return execute(sql, params, many, context)


def _in_effect(connection):
    """The organization the connection's next query runs as."""
    if connection.in_atomic_block and connection.tenant_local is not None:
        return connection.tenant_local
    return connection.tenant_setting


def _set_tenant(connection, wanted, is_local):
    with connection.connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config(%s, %s, %s), set_config(%s, %s, %s)",
            [SETTING, wanted[0], is_local, HOST_SETTING, wanted[1], is_local],
        )


def _realign_open_connections():
    """Clear a finished block's organization from this thread's open connections now.

    The execute wrapper would correct it before the next query anyway; this
    leaves nothing behind for a raw cursor or a pooled connection either.
    """
    wanted = _current.get()
    for connection in connections.all(initialized_only=True):
        if (
            connection.connection is not None
            and not connection.in_atomic_block
            and getattr(connection, "tenant_setting", None) not in (None, wanted)
        ):
            _set_tenant(connection, wanted, is_local=False)
            connection.tenant_setting = wanted


def _install_wrapper(sender, connection, **kwargs):
    from policies.postgresql.base import DatabaseWrapper

    if not isinstance(connection, DatabaseWrapper):
        # Only this backend forgets a transaction-local organization when the
        # transaction ends; without it a later transaction could run as the
        # wrong organization.
        raise ImproperlyConfigured('PostgreSQL must be used with ENGINE "policies.postgresql".')
    connection.tenant_setting = None
    connection.tenant_local = None
    if _tenant_wrapper not in connection.execute_wrappers:
        connection.execute_wrappers.append(_tenant_wrapper)
    app_role = settings.DATABASE_APP_ROLE
    if app_role and settings.DATABASE_SET_ROLE:
        with connection.connection.cursor() as cursor:
            cursor.execute(f'SET ROLE "{app_role}"')


connection_created.connect(_install_wrapper)


def all_organizations_as_operator(*, reason):
    """Yield every organization, each as the current one, auditing each visit.

    The one way into several tenants' data: the policies stay on, and each
    organization is entered explicitly.
    """
    from accounts.models import Organization
    from policies.services import audit_record

    for organization in Organization.objects.order_by("pk"):
        with organization_context(organization):
            audit_record(organization=organization, actor=None, action=f"platform.{reason}")
            logger.info("platform access to organization %s: %s", organization.pk, reason)
            yield organization


def tenant_tables():
    """Return the models whose table has an ``organization`` column."""
    from django.apps import apps

    return [
        model
        for model in apps.get_models()
        if not model._meta.proxy
        and any(
            field.name == "organization" and field.is_relation
            for field in model._meta.concrete_fields
        )
    ]


def _policy_sql(model):
    table = model._meta.db_table
    column = model._meta.get_field("organization").column
    tenant = f"{column} = NULLIF(current_setting('{SETTING}', true), '')::bigint"
    statements = [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
        f'DROP POLICY IF EXISTS tenant_isolation ON "{table}"',
        f'CREATE POLICY tenant_isolation ON "{table}" USING ({tenant}) WITH CHECK ({tenant})',
    ]
    host_column = getattr(model, "RLS_HOST_LOOKUP_COLUMN", None)
    statements.append(f'DROP POLICY IF EXISTS host_lookup ON "{table}"')
    if host_column:
        # Resolving a request's host happens before any organization is known:
        # a row is readable by the exact hostname being resolved, nothing else.
        statements.append(
            f'CREATE POLICY host_lookup ON "{table}" FOR SELECT USING '
            f"(\"{host_column}\" = NULLIF(current_setting('{HOST_SETTING}', true), ''))"
        )
    return statements


def apply_row_level_security(using="default"):
    """Put the tenant policy on every tenant table and grant the application role."""
    connection = connections[using]
    app_role = settings.DATABASE_APP_ROLE
    with connection.cursor() as cursor:
        for model in tenant_tables():
            for statement in _policy_sql(model):
                cursor.execute(statement)
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [app_role])
        if app_role and cursor.fetchone():
            privileges = "SELECT, INSERT, UPDATE, DELETE"
            cursor.execute(f'GRANT {privileges} ON ALL TABLES IN SCHEMA public TO "{app_role}"')
            cursor.execute(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{app_role}"')


def tables_missing_policy(using="default"):
    """Return the tenant tables that lack forced row-level security or the policy."""
    connection = connections[using]
    missing = []
    with connection.cursor() as cursor:
        for model in tenant_tables():
            table = model._meta.db_table
            cursor.execute(
                "SELECT c.relrowsecurity AND c.relforcerowsecurity, "
                "EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname "
                "AND p.policyname = 'tenant_isolation') "
                "FROM pg_class c WHERE c.relname = %s",
                [table],
            )
            row = cursor.fetchone()
            if not row or not all(row):
                missing.append(table)
    return missing
