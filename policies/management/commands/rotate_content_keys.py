"""Re-wrap every organization's data key under the current key-encryption key.

Rotation without downtime:

1. Put the new key first in ``CONTENT_KEYS`` and keep the old one after it
   (``CONTENT_KEYS=new:…,old:…``), then restart the web processes: they wrap
   new data keys under the new key and still unwrap those under the old one.
2. Run this command. Each organization's data key is unwrapped with the key
   it was wrapped under and wrapped again under the new one, one row at a
   time, each in its own short transaction. Content is not touched.
3. When it has finished, remove the old key from ``CONTENT_KEYS`` and
   restart again.

Running it twice is harmless: rows already under the current key are skipped.
"""

from django.core.management.base import BaseCommand

from policies.crypto import current_key_encryption_key_id
from policies.keys import organization_data_key_rewrap
from policies.tenancy import all_organizations_as_operator


class Command(BaseCommand):
    help = "Re-wrap every organization's data key under the current key-encryption key."

    def handle(self, *args, **options):
        current = current_key_encryption_key_id()
        rewrapped = sum(
            organization_data_key_rewrap(organization=organization)
            for organization in all_organizations_as_operator(reason="rotate_content_keys")
        )
        self.stdout.write(f"data keys re-wrapped under {current}: {rewrapped}")
