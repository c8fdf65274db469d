"""Fixtures of forums and group chats: a moderator, a group agreement, groups, members, sessions."""

import datetime
import functools
import itertools
import time

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts.models import Role
from groups.access import SESSION_MEMBER_KEY, SESSION_PARTICIPANTS_KEY, SESSION_SEEN_KEY
from groups.models import GroupMember, GroupSession
from groups.services import (
    group_agreement_current,
    live_group_create,
    participant_arrive,
    support_group_create,
)
from policies.models import ConsentDocument
from policies.services import consent_document_publish
from policies.tenancy import organization_context
from tests.factories import client_for, staff_create
from tests.websocket import JsonSocket, communicator

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


# Group chats


def live_group_make(organization, ends_on=None, **fields):
    fields = {
        "name": "Evening circle",
        "purpose": "Talking together, at the same time, once a week.",
        "facilitation": "Two facilitators let people in and keep the group safe.",
        "ends_on": ends_on,
        **fields,
    }
    with organization_context(organization):
        return live_group_create(organization=organization, actor=None, **fields)


def session_around(organization, group, started=5 * 60, ends_in=60 * 60, weekly=False):
    """Schedule a session of ``group`` that began ``started`` seconds ago and ends in
    ``ends_in`` seconds (negative ``started``: it begins later), in the organization's time."""
    now = timezone.localtime(timezone.now(), organization.tz)
    start = now - datetime.timedelta(seconds=started)
    end = now + datetime.timedelta(seconds=ends_in)
    with organization_context(organization):
        return GroupSession.objects.create(
            organization=organization,
            group=group,
            first_day=start.date(),
            starts_at=start.time(),
            ends_at=end.time(),
            weekly=weekly,
        )


def arrive(organization, group, display_name, **kwargs):
    """Bring someone to the group's waiting room, as the arrival page does."""
    with organization_context(organization):
        agreement = group_agreement_current(organization=organization)
        return participant_arrive(
            organization=organization,
            group=group,
            display_name=display_name,
            agreement_version=agreement.version,
            **kwargs,
        )


def participant_client(organization, *participants):
    """Return a client on the organization's host whose session holds ``participants``."""
    client = client_for(organization)
    session = client.session
    session[SESSION_PARTICIPANTS_KEY] = [participant.pk for participant in participants]
    session.save()
    return client


@pytest.fixture
def live_group(organization, agreement):
    return live_group_make(organization)


@pytest.fixture
def live_session(organization, live_group):
    return session_around(organization, live_group)


class LiveSocket(JsonSocket):
    """A test client's socket in a group chat.

    ``receive`` checks that log entries (messages, pins, removals) come once
    and in order, with no gap once the first has come.
    """

    timeout = 3
    drain_seconds = 0.3

    def __init__(self, organization, path, client):
        self.organization = organization
        self.path = path
        self.client = client
        self.seen = 0

    async def open(self, join=True):
        self.socket = communicator(self.organization, self.path, self.client)
        connected, code = await self.socket.connect()
        if connected and join:
            await self.send(type="join", last_seq=self.seen, language="en")
        return connected, code

    def check(self, frame):
        if frame.get("type") in ("message", "pin", "remove"):
            assert frame["seq"] == self.seen + 1 or not self.seen, (frame, self.seen)
            self.seen = frame["seq"]


async def participant_socket(organization, group, participant, join=True):
    client = await sync_to_async(participant_client)(organization, participant)
    socket = LiveSocket(organization, f"/ws/groups/live/{group.link_id}/", client)
    connected, code = await socket.open(join=join)
    assert connected, code
    return socket


async def facilitator_socket(organization, group, user):
    client = await sync_to_async(client_for)(organization, user)
    socket = LiveSocket(organization, f"/ws/staff/groups/{group.pk}/live/", client)
    connected, code = await socket.open()
    assert connected, code
    return socket
