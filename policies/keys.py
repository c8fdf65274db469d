"""Each organization's data key for content at rest, and its rotation.

An organization has one data key (AES-256), created the first time it is
needed and stored only wrapped by a key-encryption key from ``CONTENT_KEYS``
(see ``policies.crypto``). Content is encrypted under the data key; rotating
the key-encryption key re-wraps the data key and leaves the content alone.

Callers must run inside ``organization_context`` of the organization: the
key's row is under row-level security like every tenant row.
"""

import functools

from django.db import transaction

from policies.crypto import current_key_encryption_key_id, key_new, key_unwrap, key_wrap
from policies.models import OrganizationDataKey


@functools.lru_cache(maxsize=256)
def _unwrapped(key_id, wrapped):
    # Keyed by the wrapped bytes, so a re-wrapped row is simply a new entry.
    return key_unwrap(key_id, wrapped)


def organization_data_key(*, organization):
    """Return the organization's data key, creating and storing it (wrapped) on first use."""
    row = OrganizationDataKey.objects.filter(organization=organization).first()
    if row is None:
        key_id, wrapped = key_wrap(key_new())
        # Two first posts at once: the unique constraint keeps one key, both use it.
        row, _created = OrganizationDataKey.objects.get_or_create(
            organization=organization, defaults={"key_id": key_id, "wrapped": wrapped}
        )
    return _unwrapped(row.key_id, bytes(row.wrapped))


def organization_data_key_rewrap(*, organization):
    """Wrap the organization's data key under the current key-encryption key.

    Return True when the row changed. The row is locked, so a data key being
    created at the same moment is not lost; the data key itself is unchanged,
    so content encrypted under it stays readable throughout.
    """
    current = current_key_encryption_key_id()
    with transaction.atomic():
        row = (
            OrganizationDataKey.objects.select_for_update()
            .filter(organization=organization)
            .first()
        )
        if row is None or row.key_id == current:
            return False
        data_key = key_unwrap(row.key_id, bytes(row.wrapped))
        row.key_id, row.wrapped = key_wrap(data_key)
        row.save(update_fields=["key_id", "wrapped"])
    return True
