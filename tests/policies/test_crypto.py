import base64
import secrets

import pytest

from policies.crypto import (
    DecryptionError,
    decrypt,
    encrypt,
    key_new,
    key_unwrap,
    key_wrap,
)


def test_round_trip_in_any_script():
    key = key_new()
    text = "Je suis là. أنا هنا. 我在这里. ᐊᐃᓐᓇ"
    blob = encrypt(key, text, b"message:1:1")
    assert text.encode() not in blob
    assert decrypt(key, blob, b"message:1:1") == text


def test_wrong_key_or_place_does_not_decrypt():
    key = key_new()
    blob = encrypt(key, "hello", b"message:1:1")
    with pytest.raises(DecryptionError):
        decrypt(key_new(), blob, b"message:1:1")
    with pytest.raises(DecryptionError):
        decrypt(key, blob, b"message:2:1")
    with pytest.raises(DecryptionError):
        decrypt(key, blob[:-1] + bytes([blob[-1] ^ 1]), b"message:1:1")


def test_wrapped_data_key_unwraps_after_rotation(settings):
    old = "old:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    new = "new:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    settings.CONTENT_KEYS = [old]
    data_key = key_new()
    key_id, wrapped = key_wrap(data_key)
    assert key_id == "old"
    settings.CONTENT_KEYS = [new, old]
    assert key_unwrap(key_id, wrapped) == data_key
    assert key_wrap(data_key)[0] == "new"
    settings.CONTENT_KEYS = [new]
    with pytest.raises(DecryptionError):
        key_unwrap(key_id, wrapped)
