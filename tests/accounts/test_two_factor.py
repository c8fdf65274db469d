import pytest

from accounts.models import BackupCodeDevice, Role
from policies.tenancy import person_context
from tests.factories import authenticator_of, client_for, staff_create, totp_now

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def test_first_login_enrolls_totp_and_shows_backup_codes(organization):
    user = staff_create(organization, [Role.SUPPORT_WORKER], with_device=False)
    client = client_for(organization)
    response = client.post("/staff/login/", {"username": user.username, "password": PASSWORD})
    assert response["Location"] == "/staff/"
    assert client.get("/staff/")["Location"] == "/staff/two-factor/setup/"

    page = client.get("/staff/two-factor/setup/")
    assert b"<svg" in page.content
    device = authenticator_of(user, confirmed=False)

    refused = client.post("/staff/two-factor/setup/", {"token": "000000"})
    assert refused.status_code == 200 and not refused.context["form"].is_valid()
    assert client.get("/staff/").status_code == 302

    done = client.post("/staff/two-factor/setup/", {"token": totp_now(device)})
    codes = done.context["codes"]
    assert len(codes) == 10
    assert client.get("/staff/").status_code == 200


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
