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

Staff secrets (second-factor devices, password hashes) are personal rather
than an organization's: their tables carry a policy keyed on the
``app.user_id`` setting, the signed-in person (``person_context``), set the
same way. Sessions are read and written only through functions owned by the
table owner (``SESSION_FUNCTIONS``), as the application role may not touch
``django_session`` directly.
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
PERSON_SETTING = "app.user_id"

_current = contextvars.ContextVar("shelterchat_organization", default=("", ""))
_person = contextvars.ContextVar("shelterchat_person", default="")


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


@contextlib.contextmanager
def person_context(user):
    """Run the block as ``user`` (or None: nobody), whose own staff secrets it may read."""
    token = _person.set(str(user.pk) if user is not None and user.pk else "")
    try:
        yield
    finally:
        _person.reset(token)
        _realign_open_connections()


def _wanted():
    return (*_current.get(), _person.get())


def _tenant_wrapper(execute, sql, params, many, context):
    connection = context["connection"]
    wanted = _wanted()
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
            "SELECT set_config(%s, %s, %s), set_config(%s, %s, %s), set_config(%s, %s, %s)",
            [
                *(SETTING, wanted[0], is_local),
                *(HOST_SETTING, wanted[1], is_local),
                *(PERSON_SETTING, wanted[2], is_local),
            ],
        )


def _realign_open_connections():
    """Clear a finished block's organization from this thread's open connections now.

    The execute wrapper would correct it before the next query anyway; this
    leaves nothing behind for a raw cursor or a pooled connection either.
    """
    wanted = _wanted()
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


def person_tables():
    """Return the models holding one person's secrets, each naming its person column.

    Such a model sets ``RLS_PERSON_COLUMN`` (the foreign key to the user); its
    rows are visible only while that user is the current person.
    """
    from django.apps import apps

    return [model for model in apps.get_models() if getattr(model, "RLS_PERSON_COLUMN", None)]


def _person_policy_sql(model):
    table = model._meta.db_table
    column = model._meta.get_field(model.RLS_PERSON_COLUMN).column
    person = f"{column} = NULLIF(current_setting('{PERSON_SETTING}', true), '')::bigint"
    return [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
        f'DROP POLICY IF EXISTS person_only ON "{table}"',
        f'CREATE POLICY person_only ON "{table}" USING ({person}) WITH CHECK ({person})',
    ]


# The application role's only way to sessions: a session key opens its own
# row, and nothing lists or searches them. They run as the owner of the table.
SESSION_FUNCTIONS = {
    "session_load(text)": """
        RETURNS text LANGUAGE sql STABLE AS $$
            SELECT session_data FROM django_session
            WHERE session_key = $1 AND expire_date > now()
        $$""",
    "session_exists(text)": """
        RETURNS boolean LANGUAGE sql STABLE AS $$
            SELECT EXISTS (SELECT 1 FROM django_session WHERE session_key = $1)
        $$""",
    "session_save(text, text, timestamptz, boolean)": """
        RETURNS boolean LANGUAGE plpgsql AS $$
        BEGIN
            IF $4 THEN
                INSERT INTO django_session (session_key, session_data, expire_date)
                VALUES ($1, $2, $3) ON CONFLICT (session_key) DO NOTHING;
            ELSE
                UPDATE django_session SET session_data = $2, expire_date = $3
                WHERE session_key = $1;
            END IF;
            RETURN FOUND;
        END $$""",
    "session_delete(text)": """
        RETURNS void LANGUAGE sql AS $$
            DELETE FROM django_session WHERE session_key = $1
        $$""",
    "session_clear_expired()": """
        RETURNS void LANGUAGE sql AS $$
            DELETE FROM django_session WHERE expire_date < now()
        $$""",
}


def _session_functions_sql(app_role):
    statements = []
    for signature, body in SESSION_FUNCTIONS.items():
        statements += [
            f"CREATE OR REPLACE FUNCTION {signature} {body.strip()}",
            f"ALTER FUNCTION {signature} SECURITY DEFINER SET search_path = pg_catalog, public",
            f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC",
        ]
        if app_role:
            statements.append(f'GRANT EXECUTE ON FUNCTION {signature} TO "{app_role}"')
    return statements


def apply_row_level_security(using="default"):
    """Put the tenant and person policies on their tables and grant the application role.

    The application role gets every table but ``django_session``, which it
    reaches only through the session functions.
    """
    connection = connections[using]
    app_role = settings.DATABASE_APP_ROLE
    with connection.cursor() as cursor:
        for model in tenant_tables():
            for statement in _policy_sql(model):
                cursor.execute(statement)
        for model in person_tables():
            for statement in _person_policy_sql(model):
                cursor.execute(statement)
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [app_role])
        app_role = app_role if app_role and cursor.fetchone() else ""
        for statement in _session_functions_sql(app_role):
            cursor.execute(statement)
        if app_role:
            privileges = "SELECT, INSERT, UPDATE, DELETE"
            cursor.execute(f'GRANT {privileges} ON ALL TABLES IN SCHEMA public TO "{app_role}"')
            cursor.execute(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{app_role}"')
            cursor.execute(f'REVOKE ALL ON django_session FROM "{app_role}"')


def _lacking(models, policy, using):
    connection = connections[using]
    missing = []
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            cursor.execute(
                "SELECT c.relrowsecurity AND c.relforcerowsecurity, "
                "EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname "
                "AND p.policyname = %s) "
                "FROM pg_class c WHERE c.relname = %s",
                [policy, table],
            )
            row = cursor.fetchone()
            if not row or not all(row):
                missing.append(table)
    return missing


def tables_missing_policy(using="default"):
    """Return the tenant tables that lack forced row-level security or the policy."""
    return _lacking(tenant_tables(), "tenant_isolation", using)


def tables_missing_person_policy(using="default"):
    """Return the tables of staff secrets that lack forced row-level security or the policy."""
    return _lacking(person_tables(), "person_only", using)
