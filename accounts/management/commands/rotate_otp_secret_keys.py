"""Seal every staff TOTP secret again under the current key of ``OTP_SECRET_KEYS``.

Rotation, as for ``CONTENT_KEYS``: put the new key first and keep the old
one after it (``OTP_SECRET_KEYS=new:…,old:…``), restart, run this command,
then drop the old key and restart again. Each person's devices are read as
her, the only way they can be read; running it twice is harmless.
"""

from django.core.management.base import BaseCommand

from accounts.models import AuthenticatorDevice, User
from policies.crypto import keyring
from policies.tenancy import person_context


class Command(BaseCommand):
    help = "Seal every staff TOTP secret again under the current OTP secret key."

    def handle(self, *args, **options):
        current = next(iter(keyring("OTP_SECRET_KEYS")))
        resealed = 0
        for user in User.objects.order_by("pk").iterator():
            with person_context(user):
                for device in AuthenticatorDevice.objects.filter(user=user).exclude(key_id=current):
                    device.secret_seal(device.secret)
                    device.save(update_fields=["key_id", "sealed_secret"])
                    resealed += 1
        self.stdout.write(f"TOTP secrets sealed again under {current}: {resealed}")
