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
            starts_on=datetime.date(2099, 12, 25),
            ends_on=datetime.date(2099, 12, 26),
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
        _chat_rows(organization, admin)
        _group_chat_rows(organization, admin)


def _chat_rows(organization, worker):
    """Rows of every crisis-chat table; the organization must have an open notice."""
    import datetime as dt

    from django.utils import timezone

    from conversations.models import (
        CannedMessage,
        Case,
        Conversation,
        OptionalQuestion,
        VisitorBlock,
    )
    from conversations.services import (
        message_post,
        notice_accept,
        question_answers_record,
        shift_start,
    )
    from policies.selectors import consent_document_current

    OpeningHours.objects.create(
        organization=organization,
        weekday=timezone.localdate(timezone.now(), organization.tz).weekday(),
        opens_at=dt.time(0),
        closes_at=dt.time(0),
    )
    notice = consent_document_current(organization=organization, kind="chat_notice")
    from conversations.services import conversation_start

    conversation, _token = conversation_start(
        organization=organization,
        ticket=notice_accept(organization=organization, document=notice),
        safety="unanswered",
        language="en",
    )
    message_post(conversation=conversation, sender="survivor", client_id="row", text="row")
    assert Conversation.objects.filter(pk=conversation.pk).exists()
    shift_start(
        organization=organization, worker=worker, ends_at=timezone.now() + dt.timedelta(hours=1)
    )
    CannedMessage.objects.create(organization=organization, title="t", body_en="e", body_fr="f")
    question = OptionalQuestion.objects.create(
        organization=organization,
        text_en="q",
        text_fr="q",
        why_en="w",
        why_fr="w",
        choices_en="a",
        choices_fr="a",
    )
    question_answers_record(organization=organization, answers={question.pk: 0})
    Case.objects.create(organization=organization, reference=f"R{organization.pk}")
    VisitorBlock.objects.create(
        organization=organization, token_hash=f"{organization.pk}" * 8, blocked_until=timezone.now()
    )


def _group_chat_rows(organization, facilitator):
    """Rows of every group chat table: a group, a session, a sitting with its key, an invite,
    a participant and a message."""
    from django.utils import timezone

    from groups.models import MeetingMessage, MeetingParticipant
    from groups.services import group_session_create, live_group_create, session_invite_create

    group = live_group_create(
        organization=organization,
        actor=facilitator,
        name="Evening circle",
        purpose="Peer support",
        facilitation="A facilitator lets people in.",
    )
    session = group_session_create(
        organization=organization,
        actor=facilitator,
        group=group,
        first_day=timezone.localdate(timezone=organization.tz) + datetime.timedelta(days=1),
        starts_at=datetime.time(19),
        ends_at=datetime.time(20),
        weekly=True,
    )
    invite, _token = session_invite_create(
        organization=organization, actor=facilitator, session=session, max_uses=1
    )
    participant = MeetingParticipant.objects.create(
        organization=organization,
        meeting=invite.meeting,
        display_name="Brave Lark",
        arrived_at=timezone.now(),
    )
    MeetingMessage.objects.create(
        organization=organization,
        meeting=invite.meeting,
        seq=1,
        kind=MeetingMessage.Kind.MESSAGE,
        sender=f"p{participant.pk}",
        participant=participant,
        client_id="row",
        ciphertext=b"row",
    )
