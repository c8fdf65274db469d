"""The operator console manages organizations, hostnames and first admins, and nothing else."""

import pytest
from django.urls import NoReverseMatch, reverse

from accounts.models import Invitation, Organization, OrganizationHostname, Role, User
from accounts.services import totp_device_create
from policies.tenancy import organization_context, person_context
from tests.factories import client_for, staff_create

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
