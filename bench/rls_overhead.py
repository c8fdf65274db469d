"""What row-level security costs: the same requests with and without the policies.

Builds a database ``shelterchat_bench`` (PostgreSQL on localhost, as the
superuser, which bypasses row-level security), fills two organizations, then
times the same requests through Django's test client as the superuser
(policies not applied) and as the application role (policies applied), and
prints the median of many runs of each, then the plans of the hottest
queries as the application role.

    .venv/bin/python bench/rls_overhead.py [--runs 300] [--entries 20000]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE = "shelterchat_bench"
os.environ.update(
    DJANGO_SETTINGS_MODULE="shelterchat.settings",
    DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
    HTTPS="off",
    SECRET_KEY="bench-only-secret-key-0123456789-0123456789-0123456789",
    LOG_LEVEL="ERROR",
)


def prepare_database():
    subprocess.run(
        [
            "psql",
            "-q",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-c",
            f"DROP DATABASE IF EXISTS {DATABASE}",
            "-c",
            f"CREATE DATABASE {DATABASE}",
            "-c",
            "DO $$ BEGIN CREATE ROLE shelterchat_app NOLOGIN; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        ],
        check=True,
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--entries", type=int, default=20000)
    args = parser.parse_args()
    prepare_database()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Role
    from policies.models import AuditEntry
    from policies.tenancy import organization_context
    from tests.factories import client_for, organization_create, staff_create

    call_command("migrate", verbosity=0)
    settings.PLATFORM_DOMAIN = "platform.test"
    organizations = [organization_create("harbour"), organization_create("elsewhere")]
    for organization in organizations:
        with organization_context(organization):
            AuditEntry.objects.bulk_create(
                AuditEntry(organization=organization, action=f"bench.{n % 17}")
                for n in range(args.entries)
            )
    admin = staff_create(organizations[0], [Role.ORG_ADMIN], username="bench-admin")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    paths = {"survivor home /en/": "/en/", "audit log /staff/audit/": "/staff/audit/"}
    results = {}
    for mode, set_role in (
        ("without policies (superuser)", False),
        ("with policies (application role)", True),
    ):
        settings.DATABASE_SET_ROLE = set_role
        connection.close()
        client = client_for(organizations[0], admin)
        for label, path in paths.items():
            for _ in range(20):
                client.get(path)
            timings = []
            for _ in range(args.runs):
                started = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.status_code
            results[(label, mode)] = statistics.median(timings)

    print(f"{args.runs} runs each, {args.entries} audit entries per organization, 2 organizations")
    for label in paths:
        without = results[(label, "without policies (superuser)")]
        with_policies = results[(label, "with policies (application role)")]
        print(
            f"{label:28} median {without:6.2f} ms without policies, "
            f"{with_policies:6.2f} ms with ({with_policies - without:+.2f} ms)"
        )

    settings.DATABASE_SET_ROLE = True
    connection.close()
    hot_queries = {
        "hostname lookup": (
            "SELECT o.id FROM accounts_organization o JOIN accounts_organizationhostname h "
            "ON h.organization_id = o.id WHERE h.hostname = 'harbour.test' AND o.is_active",
            None,
            "harbour.test",
        ),
        "membership lookup": (
            f"SELECT * FROM accounts_membership WHERE organization_id = {organizations[0].pk} "
            f"AND user_id = {admin.pk} AND is_active",
            organizations[0],
            "",
        ),
        "audit log page": (
            f"SELECT * FROM policies_auditentry WHERE organization_id = {organizations[0].pk} "
            "ORDER BY created_at DESC, id DESC LIMIT 200",
            organizations[0],
            "",
        ),
    }
    for label, (sql, organization, host) in hot_queries.items():
        with organization_context(organization, host=host), connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql)
            plan = "\n    ".join(row[0] for row in cursor.fetchall())
        print(f"\n{label} (application role):\n    {plan}")
    connection.close()


if __name__ == "__main__":
    main()
