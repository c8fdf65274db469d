"""Group chat pages: the link, arriving, who may arrive, session invites, the staff's pages."""

import datetime
import re

import pytest
from django.conf import settings
from django.utils import timezone

from groups.models import GroupMeeting, GroupSession, MeetingKey, MeetingParticipant, SessionInvite
from groups.services import (
    participant_admit,
    participant_refuse,
    participant_remove,
    session_invite_create,
)
from policies.models import ConsentRecord
from policies.tenancy import organization_context
from tests.factories import client_for
from tests.groups.conftest import (
    agreement_publish,
    arrive,
    group_create,
    live_group_make,
    member_client,
    member_create,
    participant_client,
    session_around,
)

pytestmark = pytest.mark.django_db


def _arrival(client, url, agreement, name="Brave Lark", accept=True):
    data = {"display_name": name, "agreement_version": agreement.version}
    if accept:
        data["accept"] = "on"
    return client.post(url, data)


def _seats(organization):
    with organization_context(organization):
        return list(MeetingParticipant.objects.values_list("display_name", "state"))


def test_a_drop_in_link_opens_the_waiting_room_to_anyone(
    organization, agreement, live_group, live_session
):
    client = client_for(organization)
    url = f"/en/groups/live/{live_group.link_id}/"
    page = client.get(url)
    assert page.status_code == 200
    assert "Go to the waiting room" in page.content.decode()
    assert "No screenshots." in page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0")

    refused = _arrival(client, url, agreement, accept=False)
    assert "tick the box to accept it" in refused.content.decode()
    for name in ("lark@example.org", "613 555 0199", "Facilitator", "animatrice"):
        assert "Choose" in _arrival(client, url, agreement, name=name).content.decode()
    assert _seats(organization) == []

    response = _arrival(client, url, agreement, name="  Brave   Lark ")
    assert response.status_code == 302
    assert response["Location"] == f"/en/groups/live/{live_group.link_id}/room/"
    assert _seats(organization) == [("Brave Lark", "waiting")]
    with organization_context(organization):
        assert ConsentRecord.objects.filter(document=agreement).count() == 1
    room = client.get(response["Location"])
    assert f'data-ws-path="/ws/groups/live/{live_group.link_id}/"' in room.content.decode()
    assert "Brave Lark" in room.content.decode()
    # Back on the link, she goes to her room again rather than arriving twice.
    assert client.get(url)["Location"].endswith("/room/")

    # Someone else may not take her name in this session.
    other = client_for(organization)
    taken = _arrival(other, url, agreement, name="brave lark")
    assert "already uses this name" in taken.content.decode()


def test_outside_its_sessions_the_link_shows_the_next_one(organization, agreement, live_group):
    client = client_for(organization)
    url = f"/en/groups/live/{live_group.link_id}/"
    assert "No session is planned right now." in client.get(url).content.decode()
    session_around(organization, live_group, started=-3 * 3600, ends_in=4 * 3600, weekly=True)
    page = client.get(url).content.decode()
    assert "The next session is on" in page
    assert "Go to the waiting room" not in page
    assert _arrival(client, url, agreement).status_code == 200
    assert _seats(organization) == []
    # French, in the organization's time zone.
    assert "La prochaine séance" in client.get(url.replace("/en/", "/fr/")).content.decode()


def test_another_organizations_link_is_a_plain_404(
    organization, other_organization, agreement, live_group, live_session
):
    stranger = client_for(other_organization)
    for path in ("", "room/", "left/"):
        assert stranger.get(f"/en/groups/live/{live_group.link_id}/{path}").status_code == 404
    # A forum's id is no group chat's either.
    forum = group_create(organization)
    client = client_for(organization)
    assert client.get(f"/en/groups/live/{forum.pk:032x}/").status_code == 404


def test_a_time_limited_group_takes_its_members_and_invite_holders(
    organization, moderator, agreement, live_session
):
    limited = live_group_make(
        organization,
        name="Spring group",
        ends_on=timezone.localdate(timezone=organization.tz) + datetime.timedelta(days=60),
    )
    session = session_around(organization, limited)
    url = f"/en/groups/live/{limited.link_id}/"
    anonymous = client_for(organization)
    page = anonymous.get(url).content.decode()
    assert "for its members and for people invited" in page
    assert "Go to the waiting room" not in page
    assert "for its members" in _arrival(anonymous, url, agreement).content.decode()
    assert _seats(organization) == []

    # An approved member of this group, signed in: her name is offered.
    member = member_create(organization, limited, display_name="Quiet River")
    member_page = member_client(organization, member)
    assert 'value="Quiet River"' in member_page.get(url).content.decode()
    assert _arrival(member_page, url, agreement, name="Quiet River").status_code == 302
    # A member of another group, or one not approved, is not one of hers.
    elsewhere = member_create(organization, group_create(organization))
    pending = member_create(organization, limited, state="pending")
    for outsider in (elsewhere, pending):
        page = member_client(organization, outsider).get(url).content.decode()
        assert "for its members and for people invited" in page

    # A session invite, for someone who is not a member: two uses.
    with organization_context(organization):
        _invite, token = session_invite_create(
            organization=organization, actor=moderator, session=session, max_uses=2
        )
    invite_url = f"/en/groups/live/invite/{token}/"
    for name in ("Brave Lark", "Kind Fern"):
        guest = client_for(organization)
        assert "Go to the waiting room" in guest.get(invite_url).content.decode()
        response = _arrival(guest, invite_url, agreement, name=name)
        assert response["Location"] == f"/en/groups/live/{limited.link_id}/room/"
    assert client_for(organization).get(invite_url).status_code == 410
    assert sorted(_seats(organization)) == [
        ("Brave Lark", "waiting"),
        ("Kind Fern", "waiting"),
        ("Quiet River", "waiting"),
    ]
    with organization_context(organization):
        assert SessionInvite.objects.get().uses == 2
        assert not SessionInvite.objects.filter(token_hash__contains=token).exists()


def test_another_organizations_invite_is_unknown(
    organization, other_organization, moderator, agreement, live_group, live_session
):
    with organization_context(organization):
        _invite, token = session_invite_create(
            organization=organization, actor=moderator, session=live_session, max_uses=1
        )
    page = client_for(other_organization).get(f"/en/groups/live/invite/{token}/")
    assert page.status_code == 404
    assert "This link does not work" in page.content.decode()


def test_the_left_page_says_why_and_nothing_more(
    organization, moderator, agreement, live_group, live_session
):
    refused = arrive(organization, live_group, "Brave Lark")
    removed = arrive(organization, live_group, "Kind Fern")
    with organization_context(organization):
        participant_refuse(organization=organization, actor=moderator, participant=refused)
        participant_admit(organization=organization, actor=moderator, participant=removed)
        participant_remove(organization=organization, actor=moderator, participant=removed)
    left = f"/en/groups/live/{live_group.link_id}/left/"
    page = participant_client(organization, refused).get(left).content.decode()
    assert "You were not let in" in page
    page = participant_client(organization, removed).get(left).content.decode()
    assert "You were removed from this session" in page
    # Neither the room nor the link let them back.
    for seat in (refused, removed):
        client = participant_client(organization, seat)
        assert client.get(f"/en/groups/live/{live_group.link_id}/room/")["Location"] == left
        assert client.get(f"/en/groups/live/{live_group.link_id}/")["Location"] == left
    assert "The group chat has ended" in client_for(organization).get(left).content.decode()


def test_arriving_leaves_no_cookie_beyond_the_sitting(
    organization, agreement, live_group, live_session
):
    client = client_for(organization)
    url = f"/en/groups/live/{live_group.link_id}/"
    csrf = client.get(url).cookies[settings.CSRF_COOKIE_NAME]
    assert (csrf["max-age"], csrf["expires"]) == ("", "")
    session = _arrival(client, url, agreement).cookies[settings.SESSION_COOKIE_NAME]
    with organization_context(organization):
        ends_at = GroupMeeting.objects.get().ends_at
    assert abs(session["max-age"] - (ends_at - timezone.now()).total_seconds()) < 60


def test_a_live_groups_member_is_sent_to_its_page(organization, agreement, live_group):
    member = member_create(organization, live_group)
    response = member_client(organization, member).get("/en/groups/forum/")
    assert response["Location"] == f"/en/groups/live/{live_group.link_id}/"


def test_moderators_create_a_group_chat_and_schedule_it(organization, moderator, agreement):
    staff = client_for(organization, moderator)
    form = staff.get("/staff/groups/new/?kind=live").content.decode()
    assert "waiting_room_minutes" in form and "moderation" not in form
    response = staff.post(
        "/staff/groups/new/?kind=live",
        {
            "name": "Evening circle",
            "purpose": "Talking together.",
            "facilitation": "Two facilitators.",
            "waiting_room_minutes": 15,
        },
    )
    with organization_context(organization):
        group = organization_groups(organization)[0]
    assert response["Location"] == f"/staff/groups/{group.pk}/"
    assert group.kind == "live" and group.link_id is not None
    page = staff.get(response["Location"]).content.decode()
    assert f"http://harbour.test/fr/groups/live/{group.link_id}/" in page
    assert "No session yet." in page

    today = timezone.localdate(timezone=organization.tz)
    past = staff.post(
        f"/staff/groups/{group.pk}/sessions/new/",
        {
            "first_day": today - datetime.timedelta(days=1),
            "starts_at": "19:00",
            "ends_at": "20:30",
        },
    )
    assert "Choose a day that has not passed." in past.content.decode()
    response = staff.post(
        f"/staff/groups/{group.pk}/sessions/new/",
        {
            "first_day": today + datetime.timedelta(days=2),
            "starts_at": "22:30",
            "ends_at": "00:30",
            "weekly": "on",
        },
    )
    assert response.status_code == 302
    with organization_context(organization):
        session = GroupSession.objects.get()
    start, end = session.sitting_on(session.first_day, organization.tz)
    assert end - start == datetime.timedelta(hours=2)
    page = staff.get(f"/staff/groups/{group.pk}/").content.decode()
    assert "Every week" in page and "Next session:" in page
    console = staff.get(f"/staff/groups/{group.pk}/live/").content.decode()
    assert "The next session is on" in console and 'id="facilitate"' not in console


def organization_groups(organization):
    from groups.models import SupportGroup

    return list(SupportGroup.objects.filter(organization=organization))


def test_session_invites_are_shown_once_and_kept_as_hashes(
    organization, moderator, agreement, live_session
):
    limited = live_group_make(
        organization,
        ends_on=timezone.localdate(timezone=organization.tz) + datetime.timedelta(days=30),
    )
    session = session_around(organization, limited)
    staff = client_for(organization, moderator)
    page = staff.post(
        f"/staff/groups/{limited.pk}/sessions/{session.pk}/invite/",
        {"max_uses": 3, "language": "fr"},
    ).content.decode()
    link = re.search(r"http://harbour\.test/fr/groups/live/invite/([\w-]+)/", page)
    assert link is not None
    with organization_context(organization):
        invite = SessionInvite.objects.get()
    assert invite.max_uses == 3 and invite.token_hash != link.group(1)
    assert link.group(1) not in staff.get(f"/staff/groups/{limited.pk}/").content.decode()


def test_deleting_a_session_erases_its_sitting_and_keeps_past_counts(
    organization, moderator, agreement, live_group, live_session
):
    seat = arrive(organization, live_group, "Brave Lark")
    with organization_context(organization):
        participant_admit(organization=organization, actor=moderator, participant=seat)
    staff = client_for(organization, moderator)
    console = staff.get(f"/staff/groups/{live_group.pk}/live/").content.decode()
    assert f'data-ws-path="/ws/staff/groups/{live_group.pk}/live/"' in console
    staff.post(f"/staff/groups/{live_group.pk}/sessions/{live_session.pk}/delete/")
    with organization_context(organization):
        meeting = GroupMeeting.objects.get()
        assert (meeting.state, meeting.outcome, meeting.participant_count) == (
            "ended",
            "cancelled",
            1,
        )
        assert meeting.session is None
        assert not MeetingParticipant.objects.exists() and not MeetingKey.objects.exists()
    page = staff.get(f"/staff/groups/{live_group.pk}/").content.decode()
    assert "Session deleted" in page


def test_another_organizations_moderator_sees_no_group_chat(
    organization, other_organization, live_group, live_session
):
    from accounts.models import Role
    from tests.factories import staff_create

    agreement_publish(other_organization)
    outsider = client_for(other_organization, staff_create(other_organization, [Role.MODERATOR]))
    for path in ("", "live/"):
        assert outsider.get(f"/staff/groups/{live_group.pk}/{path}").status_code == 404
    response = outsider.post(f"/staff/groups/{live_group.pk}/sessions/{live_session.pk}/delete/")
    assert response.status_code == 404
    with organization_context(organization):
        assert GroupSession.objects.filter(pk=live_session.pk).exists()


def test_sittings_follow_the_schedule_in_the_organizations_time_zone(organization, agreement):
    from groups.selectors import sitting_next

    tz = organization.tz
    last_day = datetime.date(2031, 3, 31)
    group = live_group_make(organization, ends_on=last_day)
    with organization_context(organization):
        GroupSession.objects.create(
            organization=organization,
            group=group,
            # A Monday; the clocks go forward on the 9th.
            first_day=datetime.date(2031, 3, 3),
            starts_at=datetime.time(19),
            ends_at=datetime.time(20, 30),
            weekly=True,
        )

        def at(*args):
            return datetime.datetime(*args, tzinfo=tz)

        sitting = sitting_next(organization=organization, group=group, now=at(2031, 3, 5, 12))
        assert (sitting.opens_at, sitting.starts_at, sitting.ends_at) == (
            at(2031, 3, 10, 18, 50),
            at(2031, 3, 10, 19),
            at(2031, 3, 10, 20, 30),
        )
        # In progress until its end; then the next week's.
        assert sitting_next(organization=organization, group=group, now=at(2031, 3, 10, 20, 29))
        later = sitting_next(organization=organization, group=group, now=at(2031, 3, 10, 20, 30))
        assert later.starts_at == at(2031, 3, 17, 19)
        # A sitting ended early does not open again.
        GroupMeeting.objects.create(
            organization=organization,
            group=group,
            session=later.session,
            opens_at=later.opens_at,
            starts_at=later.starts_at,
            ends_at=later.ends_at,
            state=GroupMeeting.State.ENDED,
        )
        after = sitting_next(organization=organization, group=group, now=at(2031, 3, 17, 19, 30))
        assert after.starts_at == at(2031, 3, 24, 19)
        # None after the group's last day.
        assert sitting_next(organization=organization, group=group, now=at(2031, 3, 31, 21)) is None


def test_the_hourly_command_ends_a_sitting_everyone_left(
    organization, agreement, live_group, live_session
):
    import io

    from django.core.management import call_command

    from policies.models import AuditEntry

    arrive(organization, live_group, "Brave Lark")
    with organization_context(organization):
        GroupMeeting.objects.update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    output = io.StringIO()
    call_command("end_group_chats", stdout=output)
    assert output.getvalue() == "ended: 1\n"
    with organization_context(organization):
        meeting = GroupMeeting.objects.get()
        assert (meeting.state, meeting.outcome) == ("ended", "scheduled")
        assert not MeetingParticipant.objects.exists() and not MeetingKey.objects.exists()
        assert AuditEntry.objects.filter(action="platform.end_group_chats").exists()
