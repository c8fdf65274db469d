"""One row of every tenant table, for an organization: the isolation tests' data.

A new tenant model gets a row here; the isolation test fails until it does.
"""

import datetime

from accounts.models import Closure, OpeningHours, Role
from accounts.services import invitation_create
from policies.models import ConsentDocument, RetentionPolicy
from policies.services import audit_record, consent_document_publish, consent_record
from policies.tenancy import organization_context
from tests.factories import staff_create


def tenant_rows_create(organization):
    admin = staff_create(organization, [Role.ORG_ADMIN])
    with organization_context(organization):
        invitation_create(organization=organization, created_by=admin, roles=[Role.SUPERVISOR])
        OpeningHours.objects.create(
            organization=organization,
            weekday=0,
            opens_at=datetime.time(9),
            closes_at=datetime.time(17),
        )
        Closure.objects.create(
            organization=organization,
            starts_on=datetime.date(2026, 12, 25),
            ends_on=datetime.date(2026, 12, 26),
        )
        audit_record(organization=organization, actor=admin, action="test.row")
        RetentionPolicy.objects.create(organization=organization, kind="audit_log", days=30)
        document = consent_document_publish(
            organization=organization,
            actor=admin,
            kind=ConsentDocument.Kind.CHAT_NOTICE,
            body_en="Notice",
            body_fr="Avis",
        )
        consent_record(organization=organization, document=document)
