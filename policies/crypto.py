"""Encryption of survivor content at rest (AES-256-GCM, from ``cryptography``).

Two uses:
- a key of one's own for content that must die with its container (a crisis
  chat): destroying the key makes every copy of the ciphertext unreadable,
  backups included;
- data keys of an organization (forum posts), stored wrapped by a
  key-encryption key from the environment (``CONTENT_KEYS``), so a copy of
  the database alone reveals nothing and the key-encryption key can rotate;
  staff TOTP secrets are sealed the same way under ``OTP_SECRET_KEYS``.

Every ciphertext is bound to where it belongs through the associated data
(for instance ``b"message:<conversation id>:<seq>"``): moved to another row it
does not decrypt.
"""

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

NONCE_BYTES = 12


class DecryptionError(Exception):
    """The ciphertext is damaged, misplaced, or its key is gone."""


def key_new():
    return AESGCM.generate_key(bit_length=256)


def encrypt(key, plaintext, associated_data):
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), associated_data)


def decrypt(key, blob, associated_data):
    blob = bytes(blob)
    try:
        plain = AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated_data)
    except (InvalidTag, ValueError) as error:
        raise DecryptionError from error
    return plain.decode("utf-8")


def keyring(setting_name):
    """Return the keys of a keyring setting as {id: key}, the current one first.

    A keyring setting (``CONTENT_KEYS``, ``OTP_SECRET_KEYS``) is a list of
    ``id:base64key`` entries; the first seals new data, the others only open
    what they sealed until rotation is complete.
    """
    keys = {}
    for entry in getattr(settings, setting_name):
        key_id, _, encoded = entry.partition(":")
        key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        if not key_id or len(key) != 32:
            raise ImproperlyConfigured(f"{setting_name} entries are id:base64 of 32 bytes.")
        keys[key_id] = key
    if not keys:
        raise ImproperlyConfigured(f"{setting_name} is empty.")
    return keys


def seal(setting_name, plaintext, associated_data):
    """Return (key id, ciphertext) of ``plaintext`` under the keyring's current key."""
    key_id, key = next(iter(keyring(setting_name).items()))
    return key_id, encrypt(key, plaintext, associated_data)


def unseal(setting_name, key_id, blob, associated_data):
    """Return the plaintext sealed by ``seal`` under the keyring's key ``key_id``."""
    keys = keyring(setting_name)
    if key_id not in keys:
        raise DecryptionError(f"{setting_name} key {key_id!r} is not configured")
    return decrypt(keys[key_id], blob, associated_data)


def key_encryption_keys():
    """Return the key-encryption keys of ``CONTENT_KEYS`` as {id: key}, the current one first."""
    return keyring("CONTENT_KEYS")


def current_key_encryption_key_id():
    return next(iter(key_encryption_keys()))


def key_wrap(data_key):
    """Return (key id, wrapped data key) under the current key-encryption key."""
    return seal("CONTENT_KEYS", base64.b64encode(data_key).decode(), b"data-key")


def key_unwrap(key_id, wrapped):
    return base64.b64decode(unseal("CONTENT_KEYS", key_id, wrapped, b"data-key"))


def keyed_digest(purpose, value):
    """Return a keyed SHA-256 digest of ``value``: comparable, not reversible without the key."""
    key = hashlib.sha256(f"{purpose}:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
