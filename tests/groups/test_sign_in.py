"""Members sign in with a name and a passphrase; failures are limited per name, not address."""

import datetime
import re

import pytest
from django.utils import timezone

from groups.access import SESSION_MEMBER_KEY
from groups.models import GroupMember
from groups.services import SIGN_IN_ATTEMPTS
from policies.tenancy import organization_context
from tests.factories import client_for
from tests.groups.conftest import PASSPHRASE, member_create

pytestmark = pytest.mark.django_db

FAILED = "This name and passphrase do not match"


def _sign_in(client, name, passphrase):
    return client.post("/en/groups/", {"display_name": name, "passphrase": passphrase})


def _page_without_token(response):
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


def _reload(organization, member):
    with organization_context(organization):
        member.refresh_from_db()
    return member


def test_signing_in_opens_the_group(organization, group, member):
    client = client_for(organization)
    client.get("/en/groups/")
    before = client.cookies["sessionid"].value if "sessionid" in client.cookies else None
    response = _sign_in(client, "  quiet   RIVER ", PASSPHRASE)
    assert response.url == "/en/groups/"
    assert client.session[SESSION_MEMBER_KEY] == member.pk
    assert client.cookies["sessionid"].value != before
    assert client.get("/en/groups/forum/").status_code == 200


def test_a_waiting_member_signs_in_to_see_her_state(organization, group):
    waiting = member_create(organization, group, state=GroupMember.State.PENDING)
    client = client_for(organization)
    response = _sign_in(client, waiting.display_name, PASSPHRASE)
    assert "Your request is waiting" in client.get(response.url).content.decode()


def test_a_wrong_passphrase_or_unknown_name_fails_the_same_way(organization, group, member):
    wrong = _sign_in(client_for(organization), "Quiet River", "not the passphrase")
    unknown = _sign_in(client_for(organization), "Nobody Here", PASSPHRASE)
    assert FAILED in wrong.content.decode()
    assert _page_without_token(wrong).replace("Nobody Here", "Quiet River") == (
        _page_without_token(unknown).replace("Nobody Here", "Quiet River")
    )
    assert _reload(organization, member).failed_sign_ins == 1


def test_repeated_failures_pause_the_name_even_for_the_right_passphrase(
    organization, group, member
):
    client = client_for(organization)
    for _attempt in range(SIGN_IN_ATTEMPTS):
        assert FAILED in _sign_in(client, "Quiet River", "guess guess guess").content.decode()
    locked_until = _reload(organization, member).sign_in_locked_until
    assert locked_until > timezone.now() + datetime.timedelta(minutes=14)
    assert FAILED in _sign_in(client, "Quiet River", PASSPHRASE).content.decode()
    assert SESSION_MEMBER_KEY not in client.session

    with organization_context(organization):
        GroupMember.objects.filter(pk=member.pk).update(
            sign_in_locked_until=timezone.now() - datetime.timedelta(seconds=1)
        )
    assert _sign_in(client, "Quiet River", PASSPHRASE).status_code == 302
    member = _reload(organization, member)
    assert (member.failed_sign_ins, member.sign_in_locked_until) == (0, None)


def test_a_success_clears_earlier_failures(organization, group, member):
    client = client_for(organization)
    for _attempt in range(SIGN_IN_ATTEMPTS - 1):
        _sign_in(client, "Quiet River", "guess guess guess")
    assert _sign_in(client, "Quiet River", PASSPHRASE).status_code == 302
    assert _reload(organization, member).failed_sign_ins == 0


def test_members_of_another_organization_cannot_sign_in_here(
    organization, other_organization, group, member
):
    response = _sign_in(client_for(other_organization), "Quiet River", PASSPHRASE)
    assert FAILED in response.content.decode()


def test_a_member_row_holds_nothing_that_reaches_her():
    fields = {field.name for field in GroupMember._meta.concrete_fields}
    assert fields == {
        "id",
        "organization",
        "group",
        "display_name",
        "passphrase_hash",
        "state",
        "agreement_version",
        "requested_at",
        "state_changed_at",
        "failed_sign_ins",
        "sign_in_locked_until",
    }
