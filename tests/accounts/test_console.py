"""The operator console manages organizations, hostnames and first admins, and nothing else."""

import pytest
from django.urls import NoReverseMatch, reverse

from accounts.models import Invitation, Membership, Organization, OrganizationHostname, Role, User
from accounts.services import totp_device_create
from policies.tenancy import organization_context, person_context
from tests.factories import (
    authenticator_of,
    client_for,
    organization_create,
    staff_create,
    totp_now,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db):
    user = User.objects.create_user(username="operator", password="x", is_operator=True)
    with person_context(user):
        totp_device_create(user=user, confirmed=True)
    return user


def test_console_requires_verified_operator(operator, organization, org_admin):
    assert client_for(None).get("/")["Location"].startswith("/account/login/")
    assert client_for(None, operator, verified=False).get("/")["Location"] == "/account/two-factor/"
    assert client_for(None, org_admin).get("/").status_code == 404
    assert client_for(None, operator).get("/").status_code == 200


def test_operator_cannot_sign_in_to_an_organization(operator, organization):
    client = client_for(organization)
    client.post("/staff/login/", {"username": "operator", "password": "x"})
    assert "_auth_user_id" not in client.session


def test_operator_creates_organization_hostname_and_first_admin(operator):
    client = client_for(None, operator)
    response = client.post(
        "/", {"name": "Safe Harbour", "slug": "safe", "hostname": "safe.test", "languages": ["en"]}
    )
    organization = Organization.objects.get(slug="safe")
    assert response["Location"] == f"/organizations/{organization.pk}/"
    client.post(
        f"/organizations/{organization.pk}/",
        {"action": "hostname", "hostname": "chat.safe.example"},
    )
    response = client.post(f"/organizations/{organization.pk}/", {"action": "invite_admin"})
    assert response.context["new_link"].startswith("http://safe.test/staff/join/")
    with organization_context(organization):
        assert set(OrganizationHostname.objects.values_list("hostname", flat=True)) == {
            "safe.test",
            "chat.safe.example",
        }
        assert Invitation.objects.get().roles == [Role.ORG_ADMIN]


def test_hostname_already_used_is_refused(operator, organization, other_organization):
    client = client_for(None, operator)
    response = client.post(
        f"/organizations/{other_organization.pk}/",
        {"action": "hostname", "hostname": "harbour.test"},
    )
    assert response.context["form"].errors["hostname"]


def test_suspending_takes_organization_offline(operator, organization):
    client_for(None, operator).post(f"/organizations/{organization.pk}/active/", {"is_active": "0"})
    assert client_for(organization).get("/en/").status_code == 404


def test_console_has_no_route_to_staff_or_survivor_data(operator, organization, worker):
    client = client_for(None, operator)
    for path in (
        "/staff/",
        "/staff/team/",
        "/staff/audit/",
        "/staff/settings/",
        "/en/",
        f"/organizations/{organization.pk}/members/",
        f"/organizations/{organization.pk}/audit/",
    ):
        assert client.get(path).status_code == 404
    page = client.get(f"/organizations/{organization.pk}/").content
    assert worker.username.encode() not in page
    with pytest.raises(NoReverseMatch):
        reverse("accounts:staff", urlconf="shelterchat.urls_platform")


def test_organization_detail_unknown_id_is_404(operator):
    assert client_for(None, operator).get("/organizations/999999/").status_code == 404


def test_org_admin_cannot_use_console_actions(organization, org_admin, other_organization):
    client = client_for(None, org_admin)
    client.post(f"/organizations/{other_organization.pk}/active/", {"is_active": "0"})
    other_organization.refresh_from_db()
    assert other_organization.is_active
    staff_create(organization, [Role.SUPERVISOR])


def test_no_admin_invitation_once_the_organization_has_an_admin(operator, organization, org_admin):
    client = client_for(None, operator)
    page = client.get(f"/organizations/{organization.pk}/").content
    assert b'value="invite_admin"' not in page
    response = client.post(f"/organizations/{organization.pk}/", {"action": "invite_admin"})
    assert response.context["new_link"] is None
    with organization_context(organization):
        assert not Invitation.objects.exists()


def test_an_open_first_admin_link_is_void_once_there_is_an_admin(operator):
    organization = organization_create("fresh")
    client = client_for(None, operator)
    response = client.post(f"/organizations/{organization.pk}/", {"action": "invite_admin"})
    spare = response.context["new_link"].rstrip("/").rsplit("/", 1)[1]
    response = client.post(f"/organizations/{organization.pk}/", {"action": "invite_admin"})
    token = response.context["new_link"].rstrip("/").rsplit("/", 1)[1]
    # A second link withdraws the first: the operator keeps no spare.
    assert client_for(organization).get(f"/staff/join/{spare}/").status_code == 410
    staff_create(organization, [Role.ORG_ADMIN])
    page = client_for(organization).get(f"/staff/join/{token}/")
    assert page.status_code == 410
    assert b"the organization has an admin" in page.content


def _accept_as_new_admin(organization, token, name):
    client = client_for(organization)
    client.post(
        f"/staff/join/{token}/",
        {"form": "new", "new-name": name, "new-password": "a long and unusual passphrase"},
    )
    client.get(f"/staff/join/{token}/")
    device = authenticator_of(User.objects.get(username=f"{name}@{organization.slug}"), False)
    done = client.post(f"/staff/join/{token}/", {"form": "enrol", "token": totp_now(device)})
    return client, done.context["recovery_code"]


def test_recovery_needs_the_organizations_code_and_shows_in_its_audit_log(operator):
    organization = organization_create("fresh")
    console = client_for(None, operator)
    response = console.post(f"/organizations/{organization.pk}/", {"action": "invite_admin"})
    token = response.context["new_link"].rstrip("/").rsplit("/", 1)[1]
    _client, recovery_code = _accept_as_new_admin(organization, token, "first")
    assert recovery_code
    organization.refresh_from_db()
    assert recovery_code not in organization.recovery_code_hash
    assert organization.recovery_code_hash.startswith("argon2")

    # She leaves and no admin is left: the first-admin link is no longer offered.
    with organization_context(organization):
        Membership.objects.filter(organization=organization).update(is_active=False)
    url = f"/organizations/{organization.pk}/"
    page = console.get(url).content
    assert b'value="invite_admin"' not in page and b'value="recover_admin"' in page
    assert console.post(url, {"action": "invite_admin"}).context["new_link"] is None
    wrong = console.post(url, {"action": "recover_admin", "recovery_code": "0000-0000"})
    assert wrong.context["recovery_form"].errors and wrong.context["new_link"] is None

    right = console.post(url, {"action": "recover_admin", "recovery_code": recovery_code.lower()})
    token = right.context["new_link"].rstrip("/").rsplit("/", 1)[1]
    admin, new_code = _accept_as_new_admin(organization, token, "second")
    assert new_code and new_code != recovery_code
    log = admin.get("/staff/audit/").content.decode()
    assert "admin.recovery" in log
    # The old code is spent: the new admin's acceptance replaced it.
    with organization_context(organization):
        Membership.objects.filter(organization=organization).update(is_active=False)
    stale = console.post(url, {"action": "recover_admin", "recovery_code": recovery_code})
    assert stale.context["new_link"] is None


def test_operator_is_created_from_the_shell_with_her_second_factor(monkeypatch):
    import io

    from django.core.management import call_command

    monkeypatch.setattr("getpass.getpass", lambda prompt: "a long and unusual passphrase")
    out = io.StringIO()
    call_command("operator_create", "platform-operator", stdout=out)
    assert "otpauth://totp/" in out.getvalue()
    user = User.objects.get(username="platform-operator")
    assert user.is_operator
    device = authenticator_of(user)
    client = client_for(None)
    client.post(
        "/account/login/",
        {"username": "platform-operator", "password": "a long and unusual passphrase"},
    )
    client.post("/account/two-factor/", {"token": totp_now(device)})
    assert client.get("/").status_code == 200
