import datetime

import pytest
from django.utils import timezone

from accounts.models import Invitation, Membership, Role
from accounts.services import invitation_create
from policies.tenancy import organization_context, person_context
from tests.factories import client_for, staff_create

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a long and unusual passphrase"


def _invite(organization, admin, roles=(Role.SUPERVISOR,)):
    with organization_context(organization):
        return invitation_create(organization=organization, created_by=admin, roles=list(roles))


def test_admin_creates_link_and_only_the_hash_is_stored(organization, org_admin):
    client = client_for(organization, org_admin)
    response = client.post("/staff/team/", {"roles": ["moderator"], "note": "new moderator"})
    link = response.context["new_link"]
    token = link.rstrip("/").rsplit("/", 1)[1]
    with organization_context(organization):
        invitation = Invitation.objects.get()
    assert token not in invitation.token_hash
    assert invitation.roles == ["moderator"]


def test_invitation_creates_account_once(organization, org_admin):
    _invitation, token = _invite(organization, org_admin)
    client = client_for(organization)
    response = client.post(
        f"/staff/join/{token}/", {"username": "newperson", "password": NEW_PASSWORD}
    )
    assert response["Location"] == "/staff/login/"
    with organization_context(organization):
        membership = Membership.objects.get(user__username="newperson")
    assert membership.roles == [Role.SUPERVISOR]
    with person_context(membership.user):
        assert membership.user.password.startswith("argon2")

    again = client_for(organization).post(
        f"/staff/join/{token}/", {"username": "someoneelse", "password": NEW_PASSWORD}
    )
    assert again.status_code == 410
    assert b"already been used" in again.content


def test_expired_invitation_is_refused(organization, org_admin):
    invitation, token = _invite(organization, org_admin)
    with organization_context(organization):
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - datetime.timedelta(seconds=1)
        )
    response = client_for(organization).get(f"/staff/join/{token}/")
    assert response.status_code == 410
    assert b"expired" in response.content


def test_revoked_invitation_is_refused(organization, org_admin):
    invitation, token = _invite(organization, org_admin)
    client_for(organization, org_admin).post(f"/staff/team/invitations/{invitation.pk}/revoke/")
    response = client_for(organization).get(f"/staff/join/{token}/")
    assert response.status_code == 410
    assert b"withdrawn" in response.content


def test_invitation_of_another_organization_is_not_valid_here(
    organization, other_organization, other_admin
):
    _invitation, token = _invite(other_organization, other_admin)
    response = client_for(organization).get(f"/staff/join/{token}/")
    assert response.status_code == 410
    assert b"not valid" in response.content


def test_existing_staff_of_another_organization_joins_with_her_account(
    organization, other_organization, org_admin
):
    interpreter = staff_create(other_organization, [Role.INTERPRETER])
    _invitation, token = _invite(organization, org_admin, roles=[Role.INTERPRETER])
    client_for(organization).post(
        f"/staff/join/{token}/",
        {"username": interpreter.username, "password": "correct horse battery staple"},
    )
    with organization_context(organization):
        assert Membership.objects.get(user=interpreter).roles == [Role.INTERPRETER]
    with organization_context(other_organization):
        assert Membership.objects.filter(user=interpreter).exists()


def test_taken_username_with_wrong_password_is_refused(organization, org_admin, worker):
    _invitation, token = _invite(organization, org_admin)
    response = client_for(organization).post(
        f"/staff/join/{token}/", {"username": worker.username, "password": NEW_PASSWORD}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["username"]
