"""Invite links: only hashes kept; expiry, maximum uses, revocation, other organizations' links."""

import datetime
import hashlib
import re

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils import timezone

from groups.models import GroupInvite, GroupMember
from groups.services import group_invite_create
from policies.models import AuditEntry, ConsentRecord
from policies.tenancy import organization_context
from tests.factories import client_for
from tests.groups.conftest import PASSPHRASE, agreement_publish, group_create, member_create

pytestmark = pytest.mark.django_db


def _invite(organization, group, actor=None, valid_days=7, max_uses=1):
    with organization_context(organization):
        _invite, token = group_invite_create(
            organization=organization,
            actor=actor,
            group=group,
            valid_days=valid_days,
            max_uses=max_uses,
        )
    return token


def _join(client, token, agreement, name="Brave Heron", passphrase=PASSPHRASE, again=None):
    return client.post(
        f"/en/groups/join/{token}/",
        {
            "accept": "on",
            "display_name": name,
            "passphrase": passphrase,
            "passphrase_again": passphrase if again is None else again,
            "agreement_version": agreement.version,
        },
    )


def _members(organization):
    with organization_context(organization):
        return list(GroupMember.objects.values_list("display_name", "state"))


def test_moderator_creates_a_link_shown_once_and_only_its_hash_is_kept(
    organization, moderator, group
):
    staff = client_for(organization, moderator)
    page = staff.post(
        f"/staff/groups/{group.pk}/", {"valid_days": 3, "max_uses": 2, "language": "fr"}
    )
    link = re.search(r"http://harbour\.test/fr/groups/join/([\w-]+)/", page.content.decode())
    assert link is not None
    token = link.group(1)
    with organization_context(organization):
        invite = GroupInvite.objects.get()
        assert invite.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in str(list(GroupInvite.objects.values_list()))
        assert (invite.max_uses, invite.uses) == (2, 0)
        assert AuditEntry.objects.filter(action="forum.invite.create").count() == 1
    # Only the page that created it shows it.
    assert token not in staff.get(f"/staff/groups/{group.pk}/").content.decode()


def test_link_page_shows_purpose_and_agreement_in_the_links_language(
    organization, agreement, group
):
    token = _invite(organization, group)
    survivor = client_for(organization)
    english = survivor.get(f"/en/groups/join/{token}/")
    assert english.status_code == 200
    assert group.purpose in english.content.decode()
    assert agreement.body_en in english.content.decode()
    assert "no-store" in english["Cache-Control"]
    french = survivor.get(f"/fr/groups/join/{token}/").content.decode()
    assert agreement.body_fr in french
    assert 'class="name-suggestion"' in french


def test_asking_to_join_makes_a_pending_member_and_counts_one_use(organization, agreement, group):
    token = _invite(organization, group, max_uses=3)
    survivor = client_for(organization)
    response = _join(survivor, token, agreement, name="  Brave   Heron ")
    assert response.status_code == 302
    assert "Your request is waiting" in survivor.get(response.url).content.decode()
    with organization_context(organization):
        member = GroupMember.objects.get()
        assert member.display_name == "Brave Heron"
        assert member.state == GroupMember.State.PENDING
        assert member.agreement_version == agreement.version
        assert member.passphrase_hash.startswith("argon2")
        assert check_password(PASSPHRASE, member.passphrase_hash)
        assert GroupInvite.objects.get().uses == 1
        assert ConsentRecord.objects.filter(document=agreement).count() == 1


def test_the_agreement_must_be_accepted(organization, agreement, group):
    token = _invite(organization, group)
    response = client_for(organization).post(
        f"/en/groups/join/{token}/",
        {
            "display_name": "Brave Heron",
            "passphrase": PASSPHRASE,
            "passphrase_again": PASSPHRASE,
            "agreement_version": agreement.version,
        },
    )
    assert "tick the box to accept it" in response.content.decode()
    assert _members(organization) == []


def test_expired_link_says_so(organization, agreement, group):
    token = _invite(organization, group, valid_days=1)
    with organization_context(organization):
        GroupInvite.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    survivor = client_for(organization)
    page = survivor.get(f"/en/groups/join/{token}/")
    assert page.status_code == 410
    assert "This link has expired" in page.content.decode()
    assert group.purpose not in page.content.decode()
    assert _join(survivor, token, agreement).status_code == 410
    assert _members(organization) == []


def test_used_up_link_says_so(organization, agreement, group):
    token = _invite(organization, group, max_uses=2)
    assert _join(client_for(organization), token, agreement, name="First One").status_code == 302
    assert _join(client_for(organization), token, agreement, name="Second One").status_code == 302
    third = client_for(organization)
    page = third.get(f"/en/groups/join/{token}/")
    assert page.status_code == 410
    assert "used as many times as it allows" in page.content.decode()
    assert _join(third, token, agreement, name="Third One").status_code == 410
    assert sorted(name for name, _state in _members(organization)) == ["First One", "Second One"]


def test_revoked_link_says_so(organization, moderator, agreement, group):
    token = _invite(organization, group, actor=moderator, max_uses=5)
    with organization_context(organization):
        invite = GroupInvite.objects.get()
    staff = client_for(organization, moderator)
    staff.post(f"/staff/groups/{group.pk}/invites/{invite.pk}/revoke/")
    page = client_for(organization).get(f"/en/groups/join/{token}/")
    assert page.status_code == 410
    assert "This link was withdrawn" in page.content.decode()
    with organization_context(organization):
        assert AuditEntry.objects.filter(action="forum.invite.revoke").count() == 1
    assert "Withdrawn" in staff.get(f"/staff/groups/{group.pk}/").content.decode()


def test_another_organizations_link_does_not_work_here(organization, other_organization):
    agreement_publish(other_organization)
    theirs = group_create(other_organization, purpose="Their group's purpose")
    token = _invite(other_organization, theirs)
    page = client_for(organization).get(f"/en/groups/join/{token}/")
    assert page.status_code == 404
    assert "This link does not work" in page.content.decode()
    assert "Their group" not in page.content.decode()
    assert client_for(other_organization).get(f"/en/groups/join/{token}/").status_code == 200
    # Only organizations' hosts have the page at all.
    assert client_for(None).get(f"/en/groups/join/{token}/").status_code == 404


def test_unknown_link_does_not_work(organization, group):
    page = client_for(organization).get("/en/groups/join/not-a-real-token/")
    assert page.status_code == 404
    assert "This link does not work" in page.content.decode()


@pytest.mark.parametrize(
    ("name", "passphrase", "again", "error"),
    [
        ("me@example.com", PASSPHRASE, None, "looks like an email address"),
        ("quiet river", PASSPHRASE, None, "already uses this name"),
        ("Brave Heron", "short", None, "too short"),
        ("Brave Heron", PASSPHRASE, "something else entirely", "not the same"),
    ],
)
def test_names_and_passphrases_are_checked(
    organization, agreement, group, member, name, passphrase, again, error
):
    # "Quiet River" is taken in another group of the same organization.
    other_group = group_create(organization, name="Another group")
    token = _invite(organization, other_group)
    response = _join(client_for(organization), token, agreement, name, passphrase, again)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert _members(organization) == [("Quiet River", "approved")]


def test_a_name_taken_in_another_organization_is_free_here(
    organization, other_organization, agreement, group
):
    agreement_publish(other_organization)
    member_create(other_organization, group_create(other_organization), display_name="Brave Heron")
    token = _invite(organization, group)
    assert _join(client_for(organization), token, agreement).status_code == 302


def test_no_link_before_the_group_agreement_exists(organization, moderator):
    group = group_create(organization)
    with organization_context(organization), pytest.raises(ValidationError):
        group_invite_create(
            organization=organization, actor=moderator, group=group, valid_days=7, max_uses=1
        )


def test_an_ended_group_takes_no_one(organization, moderator, agreement):
    group = group_create(organization, ends_on=datetime.date(2026, 1, 1))
    with organization_context(organization):
        group.ends_on = timezone.localdate(timezone=organization.tz) + datetime.timedelta(days=1)
        group.save()
    token = _invite(organization, group)
    with organization_context(organization):
        group.ends_on = timezone.localdate(timezone=organization.tz) - datetime.timedelta(days=1)
        group.save()
    page = client_for(organization).get(f"/en/groups/join/{token}/")
    assert page.status_code == 410
    assert "This group has ended" in page.content.decode()
    with organization_context(organization), pytest.raises(ValidationError):
        group_invite_create(
            organization=organization, actor=moderator, group=group, valid_days=7, max_uses=1
        )


def test_an_agreement_changed_while_reading_must_be_read_again(organization, agreement, group):
    token = _invite(organization, group)
    agreement_publish(organization, body_en="New rules.", body_fr="Nouvelles règles.")
    survivor = client_for(organization)
    response = _join(survivor, token, agreement)
    assert response.status_code == 302
    page = survivor.get(response.url).content.decode()
    assert "The group agreement has just changed" in page
    assert "New rules." in page
    assert _members(organization) == []
