"""Writes of the policies layer: audit entries, consent records, retention windows."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from policies.models import AuditEntry, ConsentDocument, ConsentRecord, RetentionPolicy
from policies.retention import retention_kind_get


def audit_record(*, organization, actor, action, target=None):
    """Record that ``actor`` did ``action`` on ``target`` (a model instance) in ``organization``.

    Only the target's type and id are kept: never its content.
    """
    return AuditEntry.objects.create(
        organization=organization,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=target._meta.model_name if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
    )


def consent_document_publish(*, organization, actor, kind, body_en, body_fr):
    """Publish the next version of the organization's document of ``kind``.

    Raise ValidationError for a text the document may not have (see ConsentDocument.clean).
    """
    latest = ConsentDocument.objects.filter(organization=organization, kind=kind).first()
    document = ConsentDocument(
        organization=organization,
        kind=kind,
        version=(latest.version + 1) if latest else 1,
        body_en=body_en.strip(),
        body_fr=body_fr.strip(),
    )
    document.clean()
    document.save()
    audit_record(organization=organization, actor=actor, action="consent.publish", target=document)
    return document


def consent_record(*, organization, document):
    """Record that the current version of ``document`` was accepted, and when: nothing else."""
    if document.organization_id != organization.pk:
        raise ValidationError(_("Unknown document."))
    return ConsentRecord.objects.create(organization=organization, document=document)


def retention_policy_set(*, organization, actor, kind_name, days):
    """Set the organization's window for a kind of data, refusing more than the platform allows."""
    kind = retention_kind_get(kind_name)
    maximum = kind.platform_maximum()
    if days > maximum:
        raise ValidationError(
            _("At most %(maximum)d days for this kind of data.") % {"maximum": maximum}
        )
    policy, _created = RetentionPolicy.objects.update_or_create(
        organization=organization, kind=kind_name, defaults={"days": days}
    )
    audit_record(organization=organization, actor=actor, action="retention.set", target=policy)
    return policy
