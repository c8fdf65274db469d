import pytest
from django.core.exceptions import ValidationError

from policies.models import ConsentRecord
from policies.selectors import consent_document_current
from policies.services import consent_document_publish, consent_record
from policies.tenancy import organization_context

pytestmark = pytest.mark.django_db


def test_versions_increase_and_record_keeps_only_version_and_time(organization):
    with organization_context(organization):
        first = consent_document_publish(
            organization=organization,
            actor=None,
            kind="group_agreement",
            body_en="Be kind.",
            body_fr="Soyez bienveillantes.",
        )
        second = consent_document_publish(
            organization=organization,
            actor=None,
            kind="group_agreement",
            body_en="Be kind. No screenshots.",
            body_fr="Soyez bienveillantes. Pas de captures.",
        )
        assert (first.version, second.version) == (1, 2)
        current = consent_document_current(organization=organization, kind="group_agreement")
        assert current == second
        assert current.body("fr-ca").startswith("Soyez")
        record = consent_record(organization=organization, document=current)
    fields = {field.name for field in ConsentRecord._meta.concrete_fields}
    assert fields == {"id", "organization", "document", "accepted_at"}
    assert record.document.version == 2


def test_document_of_another_organization_is_refused(organization, other_organization):
    with organization_context(other_organization):
        foreign = consent_document_publish(
            organization=other_organization,
            actor=None,
            kind="chat_notice",
            body_en="x",
            body_fr="y",
        )
    with organization_context(organization), pytest.raises(ValidationError):
        consent_record(organization=organization, document=foreign)


def test_group_agreement_can_never_be_the_chat_notice(organization):
    notice = {
        "body_en": "What you write stays between you and our worker.",
        "body_fr": "Ce que vous écrivez reste entre vous et notre intervenante.",
    }
    with organization_context(organization):
        consent_document_publish(
            organization=organization, actor=None, kind="chat_notice", **notice
        )
        with pytest.raises(ValidationError) as refused:
            consent_document_publish(
                organization=organization,
                actor=None,
                kind="group_agreement",
                body_en="Be kind.",
                body_fr=notice["body_fr"] + "\n",
            )
        assert refused.value.code == "same_as_other_kind"
        agreement = consent_document_publish(
            organization=organization,
            actor=None,
            kind="group_agreement",
            body_en="Be kind.",
            body_fr="Soyez bienveillantes.",
        )
        # Nor the other way round: a notice cannot take the agreement's text.
        with pytest.raises(ValidationError):
            consent_document_publish(
                organization=organization,
                actor=None,
                kind="chat_notice",
                body_en=agreement.body_en,
                body_fr="Autre chose.",
            )
        assert consent_document_current(organization=organization, kind="chat_notice").version == 1
