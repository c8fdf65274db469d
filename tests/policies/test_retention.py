import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from policies.models import AuditEntry, ConsentRecord
from policies.retention import enforce_retention
from policies.services import consent_document_publish, consent_record, retention_policy_set
from policies.tenancy import organization_context

pytestmark = pytest.mark.django_db


def _audit_entries(organization, ages_in_days):
    with organization_context(organization):
        for age in ages_in_days:
            entry = AuditEntry.objects.create(organization=organization, action=f"age.{age}")
            AuditEntry.objects.filter(pk=entry.pk).update(
                created_at=timezone.now() - datetime.timedelta(days=age, minutes=1)
            )


def _remaining_actions(organization):
    with organization_context(organization):
        return set(
            AuditEntry.objects.filter(action__startswith="age.").values_list("action", flat=True)
        )


def test_deletes_exactly_what_is_past_the_window(organization, other_organization, org_admin):
    with organization_context(organization):
        retention_policy_set(
            organization=organization, actor=org_admin, kind_name="audit_log", days=30
        )
    _audit_entries(organization, [1, 29, 30, 31, 400])
    _audit_entries(other_organization, [1, 29, 31, 179, 181])

    counts = enforce_retention(batch_size=2)

    assert counts["audit_log"] == 3 + 1
    assert _remaining_actions(organization) == {"age.1", "age.29"}
    # The other organization keeps the default window (180 days).
    assert _remaining_actions(other_organization) == {"age.1", "age.29", "age.31", "age.179"}


def test_dry_run_counts_and_deletes_nothing(organization, capsys):
    _audit_entries(organization, [1, 200, 300])
    call_command("enforce_retention", "--dry-run")
    output = capsys.readouterr().out
    assert "audit_log: would remove 2" in output
    assert _remaining_actions(organization) == {"age.1", "age.200", "age.300"}
    call_command("enforce_retention")
    assert "audit_log: removed 2" in capsys.readouterr().out
    assert _remaining_actions(organization) == {"age.1"}


def test_window_cannot_exceed_platform_maximum(organization, org_admin, settings):
    settings.RETENTION_MAXIMUM_DAYS = {**settings.RETENTION_MAXIMUM_DAYS, "audit_log": 60}
    with organization_context(organization), pytest.raises(ValidationError):
        retention_policy_set(
            organization=organization, actor=org_admin, kind_name="audit_log", days=61
        )
    _audit_entries(organization, [59, 61])
    enforce_retention()
    assert _remaining_actions(organization) == {"age.59"}


def test_consent_records_are_purged(organization):
    with organization_context(organization):
        document = consent_document_publish(
            organization=organization, actor=None, kind="chat_notice", body_en="e", body_fr="f"
        )
        old = consent_record(organization=organization, document=document)
        new = consent_record(organization=organization, document=document)
        ConsentRecord.objects.filter(pk=old.pk).update(
            accepted_at=timezone.now() - datetime.timedelta(days=91)
        )
    assert enforce_retention()["consent_records"] == 1
    with organization_context(organization):
        assert list(ConsentRecord.objects.values_list("pk", flat=True)) == [new.pk]


def test_cross_organization_run_is_audited(organization, other_organization):
    enforce_retention()
    for each in (organization, other_organization):
        with organization_context(each):
            assert AuditEntry.objects.filter(action="platform.enforce_retention").count() == 1
