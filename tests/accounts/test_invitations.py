import datetime

import pytest
from django.utils import timezone

from accounts.models import Invitation, Membership, Role, User
from accounts.services import invitation_create, totp_device_create
from policies.tenancy import organization_context, person_context
from tests.factories import authenticator_of, client_for, staff_create, totp_now

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a long and unusual passphrase"
PASSWORD = "correct horse battery staple"


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


def _join_new(client, token, name="newperson"):
    return client.post(
        f"/staff/join/{token}/", {"form": "new", "new-name": name, "new-password": NEW_PASSWORD}
    )


def _enrol(client, token, username):
    page = client.get(f"/staff/join/{token}/")
    assert b"<svg" in page.content and username.encode() in page.content
    device = authenticator_of(User.objects.get(username=username), confirmed=False)
    return client.post(f"/staff/join/{token}/", {"form": "enrol", "token": totp_now(device)})


def _join_existing(client, token, username, password, code):
    return client.post(
        f"/staff/join/{token}/",
        {
            "form": "existing",
            "existing-username": username,
            "existing-password": password,
            "existing-code": code,
        },
    )


def test_invitation_creates_account_and_enrols_its_second_factor(organization, org_admin):
    _invitation, token = _invite(organization, org_admin)
    client = client_for(organization)
    assert _join_new(client, token)["Location"] == f"/staff/join/{token}/"
    refused = client.post(f"/staff/join/{token}/", {"form": "enrol", "token": "000000"})
    assert refused.context["form"].errors
    done = _enrol(client, token, "newperson@harbour")
    assert len(done.context["codes"]) == 10
    assert done.context["recovery_code"] is None
    with organization_context(organization):
        membership = Membership.objects.get(user__username="newperson@harbour")
    assert membership.roles == [Role.SUPERVISOR]
    with person_context(membership.user):
        assert membership.user.password.startswith("argon2")
    # Signed in on this host, second factor verified.
    assert client.get("/staff/").status_code == 200

    again = _join_new(client_for(organization), token, name="someoneelse")
    assert again.status_code == 410
    assert b"already been used" in again.content


def test_invitation_is_used_only_once_enrolment_is_confirmed(organization, org_admin):
    """Until her code from the new device is confirmed, the link is open and the account is shut."""
    invitation, token = _invite(organization, org_admin)
    client = client_for(organization)
    _join_new(client, token)
    with organization_context(organization):
        assert Invitation.objects.get(pk=invitation.pk).used_at is None
        assert not Membership.objects.filter(user__username="newperson@harbour").exists()
    signing_in = client_for(organization)
    signing_in.post("/staff/login/", {"username": "newperson@harbour", "password": NEW_PASSWORD})
    assert "_auth_user_id" not in signing_in.session
    _enrol(client, token, "newperson@harbour")
    with organization_context(organization):
        assert Invitation.objects.get(pk=invitation.pk).used_at is not None


def test_a_name_taken_in_another_organization_cannot_be_observed(
    organization, other_organization, org_admin
):
    staff_create(other_organization, [Role.SUPPORT_WORKER], username="maria@elsewhere")
    _invitation, token = _invite(organization, org_admin)
    # The same chosen name is free here: names are within the organization.
    assert _join_new(client_for(organization), token, name="maria").status_code == 302
    answers = [
        _join_existing(client_for(organization), token, username, password, "123456")
        .context["existing_form"]
        .non_field_errors()
        for username, password in (
            ("maria@elsewhere", NEW_PASSWORD),
            ("maria@elsewhere", PASSWORD),
            ("nobody@elsewhere", NEW_PASSWORD),
        )
    ]
    assert answers[0] and answers[0] == answers[1] == answers[2]


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


def test_existing_staff_of_another_organization_joins_with_both_factors(
    organization, other_organization, org_admin
):
    interpreter = staff_create(other_organization, [Role.INTERPRETER])
    _invitation, token = _invite(organization, org_admin, roles=[Role.INTERPRETER])
    client = client_for(organization)
    device = authenticator_of(interpreter)
    response = _join_existing(client, token, interpreter.username, PASSWORD, totp_now(device))
    assert response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    with organization_context(organization):
        assert Membership.objects.get(user=interpreter).roles == [Role.INTERPRETER]
    with organization_context(other_organization):
        assert Membership.objects.filter(user=interpreter).exists()


def test_the_operator_cannot_join_with_her_account(organization, org_admin):
    operator = User.objects.create_user(username="operator", password=PASSWORD, is_operator=True)
    with person_context(operator):
        device = totp_device_create(user=operator, confirmed=True)
    _invitation, token = _invite(organization, org_admin)
    response = _join_existing(
        client_for(organization),
        token,
        "operator",
        PASSWORD,
        totp_now(device),
    )
    assert response.context["existing_form"].non_field_errors()
    with organization_context(organization):
        assert not Membership.objects.filter(user=operator).exists()
