"""Retention: delete each kind of data once it is past its organization's window.

What is deleted: for every registered kind of data and every organization,
the rows whose timestamp is older than the organization's window for that
kind (its ``RetentionPolicy``, or the kind's default), never longer than the
platform's maximum (``settings.RETENTION_MAXIMUM_DAYS``).

When: each time ``manage.py enforce_retention`` runs; run it daily.

Transactions: rows go in batches of ``settings.RETENTION_BATCH_SIZE``, one
transaction per batch, so a long purge holds no lock for long and a purge cut
short resumes where it stopped on its next run.

Each app registers the kinds of data it owns from its ``AppConfig.ready``.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone


@dataclass(frozen=True)
class RetentionKind:
    name: str
    label: str
    # Return the organization's rows of this kind (a tenant-scoped queryset).
    rows: Callable
    timestamp_field: str
    default_days: int
    maximum_days: int

    def platform_maximum(self):
        return settings.RETENTION_MAXIMUM_DAYS.get(self.name, self.maximum_days)


_kinds: dict[str, RetentionKind] = {}


def register(kind):
    _kinds[kind.name] = kind


def registered_kinds():
    return [_kinds[name] for name in sorted(_kinds)]


def retention_kind_get(name):
    return _kinds[name]


def retention_days(*, organization, kind):
    """Return the organization's window for ``kind`` in days, within the platform maximum."""
    from policies.models import RetentionPolicy

    policy = RetentionPolicy.objects.filter(organization=organization, kind=kind.name).first()
    chosen = policy.days if policy else kind.default_days
    return min(chosen, kind.platform_maximum())


def expired_rows(*, organization, kind, now):
    cutoff = now - datetime.timedelta(days=retention_days(organization=organization, kind=kind))
    return kind.rows(organization).filter(**{f"{kind.timestamp_field}__lt": cutoff})


def enforce_retention(*, now=None, dry_run=False, batch_size=None):
    """Delete (or with ``dry_run`` only count) expired rows; return counts per kind."""
    from policies.tenancy import all_organizations_as_operator

    now = now or timezone.now()
    batch_size = batch_size or settings.RETENTION_BATCH_SIZE
    counts = {kind.name: 0 for kind in registered_kinds()}
    for organization in all_organizations_as_operator(reason="enforce_retention"):
        for kind in registered_kinds():
            counts[kind.name] += _purge(organization, kind, now, dry_run, batch_size)
    return counts


def _purge(organization, kind, now, dry_run, batch_size):
    from policies.tenancy import organization_context

    removed = 0
    with organization_context(organization):
        if dry_run:
            return expired_rows(organization=organization, kind=kind, now=now).count()
        while True:
            with transaction.atomic():
                batch = list(
                    expired_rows(organization=organization, kind=kind, now=now)
                    .order_by("pk")
                    .values_list("pk", flat=True)[:batch_size]
                )
                if not batch:
                    return removed
                kind.rows(organization).filter(pk__in=batch).delete()
                removed += len(batch)
