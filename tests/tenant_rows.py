"""One row of every tenant table, for an organization: the isolation tests' data.

A new tenant model gets a row here; the isolation test fails until it does.
"""

import datetime

from accounts.models import Closure, OpeningHours, Role
from accounts.services import invitation_create
from groups.models import GroupMember, PostReport
from groups.services import group_invite_create, post_create, support_group_create
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
        consent_document_publish(
            organization=organization,
            actor=admin,
            kind=ConsentDocument.Kind.GROUP_AGREEMENT,
            body_en="No screenshots.",
            body_fr="Pas de captures d'écran.",
        )
        group = support_group_create(
            organization=organization,
            actor=admin,
            name="Tuesday circle",
            purpose="Peer support",
            facilitation="A moderator reads daily.",
        )
        group_invite_create(
            organization=organization, actor=admin, group=group, valid_days=7, max_uses=1
        )
        member = GroupMember.objects.create(
            organization=organization,
            group=group,
            display_name=f"Quiet River {organization.pk}",
            passphrase_hash="!",
            state=GroupMember.State.APPROVED,
            agreement_version=1,
        )
        # Also creates the organization's data key (policies.OrganizationDataKey).
        post = post_create(
            organization=organization, group=group, member=member, title="Hello", body="Hi all"
        )
        PostReport.objects.create(
            organization=organization, post=post, reporter=member, reason="other"
        )
