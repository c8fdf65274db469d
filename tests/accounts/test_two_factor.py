import pytest

from accounts.models import AuthenticatorDevice, BackupCodeDevice, Role
from policies.tenancy import person_context
from tests.factories import authenticator_of, client_for, membership_add, staff_create, totp_now

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def test_password_alone_never_enrols_a_second_factor(organization):
    """Whoever holds the password of an account with no device cannot give it hers."""
    user = staff_create(organization, [Role.SUPPORT_WORKER], with_device=False)
    client = client_for(organization)
    response = client.post("/staff/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 200
    assert "new invitation" in str(response.context["form"].non_field_errors())
    assert "_auth_user_id" not in client.session
    assert client.get("/staff/two-factor/setup/").status_code == 404
    with person_context(user):
        assert not AuthenticatorDevice.objects.filter(user=user).exists()


def test_staff_page_refused_until_second_factor(organization, worker):
    client = client_for(organization, worker, verified=False)
    assert client.get("/staff/")["Location"] == "/staff/two-factor/"
    device = authenticator_of(worker)
    client.post("/staff/two-factor/", {"token": totp_now(device)})
    assert client.get("/staff/").status_code == 200


def test_wrong_code_is_refused(organization, worker):
    client = client_for(organization, worker, verified=False)
    response = client.post("/staff/two-factor/", {"token": "123456"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert client.get("/staff/")["Location"] == "/staff/two-factor/"


def _backup_codes(user):
    from accounts.services import backup_codes_replace

    with person_context(user):
        return backup_codes_replace(user=user)


def test_backup_code_works_once(organization, worker):
    codes = _backup_codes(worker)
    first = client_for(organization, worker, verified=False)
    assert first.post("/staff/two-factor/", {"token": codes[3]})["Location"] == "/staff/"
    second = client_for(organization, worker, verified=False)
    assert second.post("/staff/two-factor/", {"token": codes[3]}).status_code == 200
    with person_context(worker):
        assert len(BackupCodeDevice.objects.get(user=worker).code_hashes) == 9


def test_backup_codes_are_stored_only_as_slow_hashes(worker):
    codes = _backup_codes(worker)
    assert len(codes) == len(set(codes)) == 10
    with person_context(worker):
        stored = BackupCodeDevice.objects.get(user=worker).code_hashes
    assert all(encoded.startswith("argon2$argon2id$") for encoded in stored)
    assert not any(code in encoded for code in codes for encoded in stored)


def test_backup_code_typed_with_spaces_and_capitals_works(organization, worker):
    code = _backup_codes(worker)[0]
    typed = f"{code[:4]} {code[4:8]} {code[8:]}".upper()
    client = client_for(organization, worker, verified=False)
    assert client.post("/staff/two-factor/", {"token": typed})["Location"] == "/staff/"


def test_new_backup_codes_replace_the_old(worker):
    old = _backup_codes(worker)
    new = _backup_codes(worker)
    with person_context(worker):
        device = BackupCodeDevice.objects.get(user=worker)
        assert not device.verify_token(old[0])
        device.throttle_reset()
        assert device.verify_token(new[0])


def test_staff_of_another_organization_cannot_sign_in_here(organization, other_admin):
    client = client_for(organization)
    response = client.post(
        "/staff/login/", {"username": other_admin.username, "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_idle_session_ends(organization, worker):
    import time

    from accounts.middleware import SESSION_SEEN_KEY

    client = client_for(organization, worker)
    assert client.get("/staff/").status_code == 200
    session = client.session
    session[SESSION_SEEN_KEY] = time.time() - organization.staff_idle_minutes * 60 - 5
    session.save()
    assert client.get("/staff/")["Location"] == "/staff/login/"
    assert client.get("/staff/")["Location"] == "/staff/login/"


def test_absolute_session_limit(organization, worker):
    import time

    from accounts.middleware import SESSION_STARTED_KEY

    client = client_for(organization, worker)
    client.get("/staff/")
    session = client.session
    session[SESSION_STARTED_KEY] = time.time() - organization.staff_session_hours * 3600 - 5
    session.save()
    assert client.get("/staff/")["Location"] == "/staff/login/"


def test_disabled_account_is_out_at_once(organization, worker):
    client = client_for(organization, worker)
    assert client.get("/staff/").status_code == 200
    worker.is_active = False
    worker.save()
    assert client.get("/staff/")["Location"] == "/staff/login/"


def _signed_in_and_verified(organization, user):
    """Return a client that signed in and verified through the pages, on the organization's host."""
    client = client_for(organization)
    client.post("/staff/login/", {"username": user.username, "password": PASSWORD})
    device = authenticator_of(user)
    assert client.post("/staff/two-factor/", {"token": totp_now(device)})["Location"] == "/staff/"
    return client


def test_session_is_honoured_only_on_the_host_it_was_made_on(organization, other_organization):
    from django.conf import settings
    from django.test import Client

    interpreter = staff_create(organization, [Role.INTERPRETER])
    membership_add(other_organization, interpreter, [Role.INTERPRETER])
    client = _signed_in_and_verified(organization, interpreter)
    assert client.get("/staff/").status_code == 200
    session_id = client.cookies[settings.SESSION_COOKIE_NAME].value

    elsewhere = Client(HTTP_HOST="elsewhere.test")
    elsewhere.cookies[settings.SESSION_COOKIE_NAME] = session_id
    assert elsewhere.get("/staff/")["Location"] == "/staff/login/"
    assert elsewhere.get("/staff/two-factor/")["Location"] == "/staff/login/"
    platform = Client(HTTP_HOST=settings.PLATFORM_DOMAIN)
    platform.cookies[settings.SESSION_COOKIE_NAME] = session_id
    assert platform.get("/")["Location"].startswith("/account/login/")

    # Signing in there starts a new session that still needs its own second factor.
    elsewhere.post("/staff/login/", {"username": interpreter.username, "password": PASSWORD})
    assert elsewhere.cookies[settings.SESSION_COOKIE_NAME].value != session_id
    assert elsewhere.get("/staff/")["Location"] == "/staff/two-factor/"
    assert client.get("/staff/").status_code == 200
