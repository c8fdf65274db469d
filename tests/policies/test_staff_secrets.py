"""Staff secrets stay out of reach of the application role unless it acts as their person.

Connected as the application role with nothing set, a raw query finds no
second-factor device, no password hash and no session; acting as one person
it finds hers only.
"""

import base64
import importlib
import io
import secrets
from urllib.parse import quote

import pytest
from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.base import CreateError, UpdateError
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from accounts.models import AuthenticatorDevice, BackupCodeDevice, PasswordHash, Role, User
from accounts.services import backup_codes_replace, invitation_create
from policies.crypto import DecryptionError
from policies.sessions import SessionStore
from policies.tenancy import (
    organization_context,
    person_context,
    person_tables,
    tables_missing_person_policy,
)
from tests.factories import authenticator_of, client_for, staff_create
from tests.roles import as_database_owner

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
SECRET_TABLES = [
    "accounts_authenticatordevice",
    "accounts_backupcodedevice",
    "accounts_passwordhash",
]


def _rows(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.fixture
def two_people(organization, worker, other_admin):
    for user in (worker, other_admin):
        with person_context(user):
            backup_codes_replace(user=user)
    return worker, other_admin


def test_every_table_of_secrets_has_forced_person_policy():
    assert sorted(model._meta.db_table for model in person_tables()) == SECRET_TABLES
    assert tables_missing_person_policy() == []


def test_a_table_of_secrets_without_policy_is_reported():
    with as_database_owner(), connection.cursor() as cursor:
        cursor.execute('ALTER TABLE "accounts_passwordhash" NO FORCE ROW LEVEL SECURITY')
    assert tables_missing_person_policy() == ["accounts_passwordhash"]


@pytest.mark.parametrize("table", SECRET_TABLES)
def test_nothing_set_reads_no_secret(two_people, table):
    with as_database_owner():
        assert len(_rows(f'SELECT * FROM "{table}"')) >= 2
    assert _rows(f'SELECT * FROM "{table}"') == []


def test_an_organization_alone_reads_no_secret(two_people, organization):
    with organization_context(organization):
        for table in SECRET_TABLES:
            assert _rows(f'SELECT * FROM "{table}"') == []


def test_the_user_table_holds_no_password_hash(two_people):
    columns = [
        column
        for (column,) in _rows(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'accounts_user'"
        )
    ]
    assert "password" not in columns
    assert not any(
        "argon2" in str(value) for row in _rows("SELECT * FROM accounts_user") for value in row
    )


def test_one_person_reads_only_her_own_secrets(two_people):
    worker, other = two_people
    with person_context(worker):
        for table in SECRET_TABLES:
            assert {user_id for (user_id,) in _rows(f'SELECT user_id FROM "{table}"')} == {
                worker.pk
            }
        assert not AuthenticatorDevice.objects.filter(user=other).exists()
        assert other.password is None
        assert worker.password.startswith("argon2")


def test_one_person_cannot_write_a_device_for_another(two_people):
    worker, other = two_people
    with person_context(worker), pytest.raises(DatabaseError), transaction.atomic():
        BackupCodeDevice.objects.create(user=other, name="planted")
    with person_context(worker), pytest.raises(DatabaseError), transaction.atomic():
        BackupCodeDevice.objects.filter(user=worker).update(user=other)


def test_totp_secret_is_stored_sealed_and_bound_to_its_owner(two_people):
    worker, other = two_people
    device = authenticator_of(worker)
    secret = device.secret
    with as_database_owner():
        ((sealed,),) = _rows(
            "SELECT sealed_secret FROM accounts_authenticatordevice WHERE id = %s", [device.pk]
        )
    assert secret not in bytes(sealed)
    assert secret.hex().encode() not in bytes(sealed)
    assert base64.b32encode(secret) not in bytes(sealed)
    device.user_id = other.pk
    with pytest.raises(DecryptionError):
        device.secret  # noqa: B018


def test_totp_secret_opens_only_with_its_key(settings, organization):
    worker = staff_create(organization, [Role.SUPPORT_WORKER], with_device=False)
    old = "old:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    new = "new:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    settings.OTP_SECRET_KEYS = [old]
    with person_context(worker):
        device = AuthenticatorDevice(user=worker, name="authenticator")
        device.secret_seal(b"\x01" * 20)
        device.save()
    settings.OTP_SECRET_KEYS = [new, old]
    assert authenticator_of(worker).secret == b"\x01" * 20
    settings.OTP_SECRET_KEYS = [new]
    with pytest.raises(DecryptionError):
        authenticator_of(worker).secret  # noqa: B018


def test_enrolment_code_is_an_authenticator_uri_of_the_sealed_secret(organization, org_admin):
    with organization_context(organization):
        _invitation, token = invitation_create(
            organization=organization, created_by=org_admin, roles=[Role.SUPPORT_WORKER]
        )
    client = client_for(organization)
    client.post(
        f"/staff/join/{token}/",
        {"form": "new", "new-name": "newcomer", "new-password": "a long and unusual passphrase"},
    )
    page = client.get(f"/staff/join/{token}/")
    user = User.objects.get(username=f"newcomer@{organization.slug}")
    device = authenticator_of(user, confirmed=False)
    assert device.secret_base32 in page.content.decode()
    with person_context(user):
        url = device.config_url
    assert url.startswith(f"otpauth://totp/ShelterChat%3A{quote(user.username)}?secret=")
    assert f"secret={device.secret_base32}&issuer=ShelterChat" in url


def test_password_change_ends_her_other_sessions(organization, worker):
    client = client_for(organization, worker)
    assert client.get("/staff/").status_code == 200
    worker.set_password("a whole new passphrase")
    worker.save()
    assert client.get("/staff/")["Location"] == "/staff/login/"
    fresh = client_for(organization)
    signed_in = fresh.post(
        "/staff/login/", {"username": worker.username, "password": "a whole new passphrase"}
    )
    assert signed_in["Location"] == "/staff/"


def test_password_hash_upgrade_is_stored_as_her(worker, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    with person_context(worker):
        PasswordHash.objects.filter(user=worker).update(
            encoded=make_password(PASSWORD, hasher="pbkdf2_sha256")
        )
    assert worker.check_password(PASSWORD)
    with person_context(worker):
        assert PasswordHash.objects.get(user=worker).encoded.startswith("argon2")
    worker.refresh_from_db()
    assert worker.check_password(PASSWORD)


@pytest.mark.django_db(transaction=True)
async def test_password_checks_in_async_code_too(organization):
    from channels.db import database_sync_to_async

    user = await database_sync_to_async(staff_create)(organization, [Role.SUPPORT_WORKER])
    assert await user.acheck_password(PASSWORD)
    assert not await user.acheck_password("not her password")


def test_sessions_are_reached_only_by_their_key():
    store = SessionStore()
    store["staff"] = "x"
    store.save()
    assert SessionStore(store.session_key).load() == {"staff": "x"}
    assert store.exists(store.session_key)
    with pytest.raises(DatabaseError), transaction.atomic():
        _rows("SELECT * FROM django_session")
    with as_database_owner():
        assert len(_rows("SELECT * FROM django_session")) == 1


def test_session_store_refuses_a_taken_key_and_a_vanished_session():
    store = SessionStore()
    store.create()
    twin = SessionStore(store.session_key)
    with pytest.raises(CreateError):
        twin.save(must_create=True)
    store.delete()
    assert not store.exists(twin.session_key)
    twin["late"] = True
    with pytest.raises(UpdateError):
        twin.save()


def test_expired_sessions_do_not_load_and_are_cleared():
    store = SessionStore()
    store.set_expiry(-10)
    store["old"] = True
    store.save()
    assert SessionStore(store.session_key).load() == {}
    SessionStore.clear_expired()
    assert not store.exists(store.session_key)


def test_plugin_devices_are_adopted_and_their_tables_dropped(worker):
    legacy_code = "k2mq7x4a"  # the plugin's codes: eight letters of base32
    secret = secrets.token_bytes(20)
    with as_database_owner(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE otp_totp_totpdevice (id serial, user_id bigint, name text, "
            "confirmed boolean, key text, drift smallint, last_t bigint)"
        )
        cursor.execute("CREATE TABLE otp_static_staticdevice (id serial, user_id bigint)")
        cursor.execute("CREATE TABLE otp_static_statictoken (device_id integer, token text)")
        cursor.execute(
            "INSERT INTO otp_totp_totpdevice (user_id, name, confirmed, key, drift, last_t) "
            "VALUES (%s, 'phone', true, %s, 0, -1)",
            [worker.pk, secret.hex()],
        )
        cursor.execute("INSERT INTO otp_static_staticdevice (user_id) VALUES (%s)", [worker.pk])
        cursor.execute("INSERT INTO otp_static_statictoken VALUES (1, %s)", [legacy_code])
        migration = importlib.import_module("accounts.migrations.0005_adopt_otp_plugin_devices")
        with connection.schema_editor() as schema_editor:
            migration.adopt(apps, schema_editor)
        assert not {"otp_totp_totpdevice", "otp_static_statictoken"} & set(
            connection.introspection.table_names()
        )
    with person_context(worker):
        adopted = AuthenticatorDevice.objects.get(user=worker, name="phone")
        assert adopted.secret == secret
        backup = BackupCodeDevice.objects.get(user=worker)
        assert legacy_code not in str(backup.code_hashes)
        with transaction.atomic():
            assert backup.verify_token(legacy_code)


def test_rotation_seals_every_secret_under_the_new_key(settings, organization):
    old = "old:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    new = "new:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    settings.OTP_SECRET_KEYS = [old]
    people = [staff_create(organization, [Role.SUPPORT_WORKER]) for _ in range(2)]
    before = [authenticator_of(user).secret for user in people]
    settings.OTP_SECRET_KEYS = [new, old]
    assert _rotate().endswith("new: 2\n")
    settings.OTP_SECRET_KEYS = [new]
    assert [authenticator_of(user).secret for user in people] == before
    assert _rotate().endswith("new: 0\n")


def _rotate():
    out = io.StringIO()
    call_command("rotate_otp_secret_keys", stdout=out)
    return out.getvalue()
