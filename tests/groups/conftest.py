"""Forum fixtures: a moderator, a published group agreement, groups and members, in one tenant."""

import functools
import itertools
import time

import pytest
from django.contrib.auth.hashers import make_password

from accounts.models import Role
from groups.access import SESSION_MEMBER_KEY, SESSION_SEEN_KEY
from groups.models import GroupMember
from groups.services import support_group_create
from policies.models import ConsentDocument
from policies.services import consent_document_publish
from policies.tenancy import organization_context
from tests.factories import client_for, staff_create

PASSPHRASE = "lanterns over the harbour"
_names = itertools.count(1)


@functools.cache
def passphrase_hash():
    """Hash the test passphrase once: Argon2 is slow on purpose."""
    return make_password(PASSPHRASE)


def agreement_publish(organization, body_en="No screenshots.", body_fr="Pas de captures."):
    with organization_context(organization):
        return consent_document_publish(
            organization=organization,
            actor=None,
            kind=ConsentDocument.Kind.GROUP_AGREEMENT,
            body_en=body_en,
            body_fr=body_fr,
        )


def group_create(organization, **fields):
    fields = {
        "name": "Tuesday circle",
        "purpose": "A place to talk with others who have been through it.",
        "facilitation": "Two moderators read every day.",
        **fields,
    }
    with organization_context(organization):
        return support_group_create(organization=organization, actor=None, **fields)


def member_create(organization, group, state=GroupMember.State.APPROVED, display_name=None):
    with organization_context(organization):
        return GroupMember.objects.create(
            organization=organization,
            group=group,
            display_name=display_name or f"Member {next(_names)}",
            passphrase_hash=passphrase_hash(),
            state=state,
            agreement_version=1,
        )


def member_client(organization, member):
    """Return a client on the organization's host, signed in as ``member``."""
    client = client_for(organization)
    session = client.session
    session[SESSION_MEMBER_KEY] = member.pk
    session[SESSION_SEEN_KEY] = time.time()
    session.save()
    return client


@pytest.fixture
def moderator(organization):
    return staff_create(organization, [Role.MODERATOR])


@pytest.fixture
def agreement(organization):
    return agreement_publish(organization)


@pytest.fixture
def group(organization, agreement):
    return group_create(organization)


@pytest.fixture
def member(organization, group):
    return member_create(organization, group, display_name="Quiet River")
