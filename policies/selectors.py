from policies.models import AuditEntry, ConsentDocument
from policies.retention import registered_kinds, retention_days


def audit_entry_list(*, organization, limit=200):
    return AuditEntry.objects.filter(organization=organization).select_related("actor")[:limit]


def consent_document_current(*, organization, kind):
    """Return the organization's latest version of the document of ``kind``, or None."""
    return ConsentDocument.objects.filter(organization=organization, kind=kind).first()


def retention_windows(*, organization):
    """Return (kind, days in force, platform maximum) for every kind of data."""
    return [
        (kind, retention_days(organization=organization, kind=kind), kind.platform_maximum())
        for kind in registered_kinds()
    ]
