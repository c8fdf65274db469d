"""Reads of the support forums and group chats, each scoped to one organization and group.

``access_*`` selectors answer 404 alike for "absent" and "someone else's".
Post text is decrypted here, and only for the posts of the page being shown.
A member's view is given by ``member``; with ``member=None`` the reader is a
moderator, who sees every post of the group whatever its status.

A group chat's times are computed here from its sessions (``sitting_next``);
a meeting's log is decrypted here, for one socket at a time.
"""

import base64
import dataclasses
import datetime
import itertools
import uuid

from django.core.paginator import Paginator
from django.db.models import Count, Max, Prefetch, Q
from django.db.models.functions import Lower
from django.http import Http404
from django.utils import timezone

from groups.models import (
    GroupInvite,
    GroupMeeting,
    GroupMember,
    GroupSession,
    MeetingMessage,
    MeetingParticipant,
    Post,
    PostReport,
    SupportGroup,
)
from policies.crypto import decrypt
from policies.keys import organization_data_key
from policies.pseudonyms import suggest_display_names

TOPICS_PER_PAGE = 30
POSTS_PER_PAGE = 50
QUEUE_LENGTH = 100


def support_group_list(*, organization):
    return SupportGroup.objects.filter(organization=organization).annotate(
        pending_count=Count("members", filter=Q(members__state=GroupMember.State.PENDING))
    )


def access_support_group(*, organization, group_id):
    group = SupportGroup.objects.filter(organization=organization, pk=group_id).first()
    if group is None:
        raise Http404
    return group


def group_invite_list(*, organization, group):
    return GroupInvite.objects.filter(organization=organization, group=group)


def access_group_invite(*, organization, group, invite_id):
    invite = group_invite_list(organization=organization, group=group).filter(pk=invite_id).first()
    if invite is None:
        raise Http404
    return invite


def group_member_get(*, organization, member_id):
    """Return the organization's member ``member_id`` with her group, or None."""
    return (
        GroupMember.objects.filter(organization=organization, pk=member_id)
        .select_related("group")
        .first()
    )


def group_member_list(*, organization, group, states=None):
    """Return the group's members (moderators only), with how many posts each has."""
    members = GroupMember.objects.filter(organization=organization, group=group)
    if states is not None:
        members = members.filter(state__in=states)
    return members.annotate(post_count=Count("posts"))


def access_group_member(*, organization, group, member_id):
    member = GroupMember.objects.filter(
        organization=organization, group=group, pk=member_id
    ).first()
    if member is None:
        raise Http404
    return member


def display_name_taken(*, organization, display_name):
    return GroupMember.objects.filter(
        organization=organization, display_name__iexact=display_name
    ).exists()


def display_name_suggestions(*, organization, language, count=4):
    """Return up to ``count`` generated names that no member of the organization uses."""
    candidates = list(dict.fromkeys(suggest_display_names(language, count * 3)))
    taken = set(
        GroupMember.objects.filter(organization=organization)
        .annotate(key=Lower("display_name"))
        .filter(key__in=[name.lower() for name in candidates])
        .values_list("key", flat=True)
    )
    return [name for name in candidates if name.lower() not in taken][:count]


def _readable_posts(*, organization, group, member):
    posts = Post.objects.filter(organization=organization, group=group)
    if member is None:
        return posts
    # Members read published posts, except those of members who were
    # removed, and every post of their own whatever its status.
    State = GroupMember.State
    return posts.filter(
        Q(status=Post.Status.PUBLISHED)
        & (
            Q(author_member__isnull=True)
            | Q(author_member__state__in=[State.APPROVED, State.SUSPENDED])
        )
        | Q(author_member=member)
    )


def posts_reveal(*, organization, posts):
    """Decrypt the title and body of ``posts`` into ``post.title`` and ``post.body``."""
    posts = list(posts)
    if posts:
        key = organization_data_key(organization=organization)
        for post in posts:
            post.title = (
                decrypt(key, post.title_sealed, post.associated_data("title"))
                if post.title_sealed
                else ""
            )
            post.body = decrypt(key, post.body_sealed, post.associated_data("body"))
    return posts


def _with_authors(posts):
    return posts.select_related("author_member", "author_staff")


@dataclasses.dataclass
class TopicSummary:
    thread: uuid.UUID
    last_posted_at: datetime.datetime
    post_count: int
    # The topic's first post, or None when the reader may not see it (hidden,
    # waiting for approval) or it is gone.
    first_post: Post | None


def topic_page(*, organization, group, member=None, page_number=1):
    """Return a page of the group's topics, most recently active first.

    Three queries whatever the number of posts: the count of topics, the
    page's topics, their first posts.
    """
    readable = _readable_posts(organization=organization, group=group, member=member)
    topics = (
        readable.order_by()
        .values("thread")
        .annotate(last_posted_at=Max("created_at"), post_count=Count("id"))
        .order_by("-last_posted_at", "thread")
    )
    page = Paginator(topics, TOPICS_PER_PAGE).get_page(page_number)
    threads = [row["thread"] for row in page.object_list]
    first_posts = {
        post.id: post
        for post in posts_reveal(
            organization=organization,
            posts=_with_authors(readable.filter(id__in=threads)),
        )
    }
    page.object_list = [
        TopicSummary(
            thread=row["thread"],
            last_posted_at=row["last_posted_at"],
            post_count=row["post_count"],
            first_post=first_posts.get(row["thread"]),
        )
        for row in page.object_list
    ]
    return page


def pinned_posts(*, organization, group, member=None):
    readable = _readable_posts(organization=organization, group=group, member=member)
    return posts_reveal(
        organization=organization, posts=_with_authors(readable.filter(pinned=True))
    )


def _with_open_reports(posts):
    return posts.annotate(
        open_report_count=Count("reports", filter=Q(reports__resolved_at__isnull=True))
    )


def thread_page(*, organization, group, thread, member=None, page_number=1):
    """Return a page (a number, or "last") of a topic's posts in order; 404 if none is readable."""
    posts = _with_authors(
        _readable_posts(organization=organization, group=group, member=member).filter(thread=thread)
    )
    if member is None:
        posts = _with_open_reports(posts)
    paginator = Paginator(posts.order_by("created_at", "id"), POSTS_PER_PAGE)
    if paginator.count == 0:
        raise Http404
    page = paginator.get_page(paginator.num_pages if page_number == "last" else page_number)
    page.object_list = posts_reveal(organization=organization, posts=page.object_list)
    return page


def access_post(*, organization, group, post_id, member=None):
    """Return the post ``post_id`` of ``group`` if the reader may see it, decrypted; else 404."""
    post = (
        _with_authors(_readable_posts(organization=organization, group=group, member=member))
        .filter(pk=post_id)
        .first()
    )
    if post is None:
        raise Http404
    return posts_reveal(organization=organization, posts=[post])[0]


def access_own_post(*, organization, member, post_id):
    """Return the member's own post ``post_id``, decrypted; 404 for anyone else's."""
    post = (
        _with_authors(Post.objects.filter(organization=organization, author_member=member))
        .filter(pk=post_id)
        .first()
    )
    if post is None:
        raise Http404
    return posts_reveal(organization=organization, posts=[post])[0]


def moderation_queue(*, organization, group):
    """Return the oldest ``QUEUE_LENGTH`` posts of the group waiting for approval or reported."""
    open_reports = PostReport.objects.filter(organization=organization, resolved_at__isnull=True)
    posts = (
        _with_open_reports(
            _with_authors(Post.objects.filter(organization=organization, group=group))
        )
        .filter(Q(status=Post.Status.PENDING) | Q(open_report_count__gt=0))
        .prefetch_related(Prefetch("reports", queryset=open_reports, to_attr="open_reports"))
        .order_by("created_at", "id")
    )
    return posts_reveal(organization=organization, posts=posts[:QUEUE_LENGTH])


# Group chats


def access_live_group(*, organization, link_id):
    """Return the organization's group chat reached by ``link_id``; 404 for any other."""
    group = SupportGroup.objects.filter(
        organization=organization, kind=SupportGroup.Kind.LIVE, link_id=link_id
    ).first()
    if group is None:
        raise Http404
    return group


def live_group_get(*, organization, group_id=None, link_id=None):
    """Return the organization's group chat by id or by link, or None."""
    groups = SupportGroup.objects.filter(organization=organization, kind=SupportGroup.Kind.LIVE)
    if group_id is not None:
        groups = groups.filter(pk=group_id)
    if link_id is not None:
        groups = groups.filter(link_id=link_id)
    return groups.first()


def group_session_list(*, organization, group):
    return GroupSession.objects.filter(organization=organization, group=group)


def access_group_session(*, organization, group, session_id):
    session = group_session_list(organization=organization, group=group).filter(pk=session_id)
    session = session.first()
    if session is None:
        raise Http404
    return session


@dataclasses.dataclass(frozen=True)
class Sitting:
    """One occurrence of a session: its waiting room opens at ``opens_at``."""

    session: GroupSession
    opens_at: datetime.datetime
    starts_at: datetime.datetime
    ends_at: datetime.datetime


def _session_sittings(session, *, tz, from_day, last_day, lead):
    """Yield the session's sittings that begin on or after ``from_day``, in order."""
    day = max(session.first_day, from_day)
    if session.weekly:
        behind = (day - session.first_day).days % 7
        if behind:
            day += datetime.timedelta(days=7 - behind)
    elif day != session.first_day:
        return
    while last_day is None or day <= last_day:
        starts_at, ends_at = session.sitting_on(day, tz)
        yield Sitting(session, starts_at - lead, starts_at, ends_at)
        if not session.weekly:
            return
        day += datetime.timedelta(days=7)


def sitting_next(*, organization, group, now, session=None):
    """Return the group's sitting (or ``session``'s) in progress or next to come, or None.

    A sitting is in progress until its end, unless it was ended early; the
    group's last day, if it has one, is the last day a sitting can begin.
    """
    tz = organization.tz
    lead = datetime.timedelta(minutes=group.waiting_room_minutes)
    ended = set(
        GroupMeeting.objects.filter(
            organization=organization,
            group=group,
            state=GroupMeeting.State.ENDED,
            ends_at__gt=now,
        ).values_list("session_id", "starts_at")
    )
    # A sitting that began yesterday may still be running past midnight.
    from_day = timezone.localdate(now, tz) - datetime.timedelta(days=1)
    sessions = [session] if session else group_session_list(organization=organization, group=group)
    candidates = []
    for each in sessions:
        sittings = _session_sittings(
            each, tz=tz, from_day=from_day, last_day=group.ends_on, lead=lead
        )
        for sitting in itertools.islice(sittings, 8):
            if sitting.ends_at > now and (each.pk, sitting.starts_at) not in ended:
                candidates.append(sitting)
                break
    return min(candidates, key=lambda sitting: sitting.starts_at, default=None)


def meeting_attendance_list(*, organization, group, limit=50):
    """Return the group's ended meetings, most recent first: when, and how many took part."""
    return GroupMeeting.objects.filter(
        organization=organization, group=group, state=GroupMeeting.State.ENDED
    )[:limit]


def participant_of_session(*, organization, group, participant_ids):
    """Return the participant of an open meeting of ``group`` whose id the session holds, or None.

    Her meeting comes with her.
    """
    return (
        MeetingParticipant.objects.filter(
            organization=organization,
            pk__in=[pk for pk in participant_ids if isinstance(pk, int)],
            meeting__group=group,
            meeting__state=GroupMeeting.State.OPEN,
        )
        .select_related("meeting")
        .order_by("-pk")
        .first()
    )


def participant_refresh(*, participant):
    """Return the participant as she stands now, with her meeting; None once she is gone."""
    return (
        MeetingParticipant.objects.filter(
            organization=participant.organization_id, pk=participant.pk
        )
        .select_related("meeting")
        .first()
    )


def access_meeting_participant(*, meeting, participant_id):
    """Return the meeting's participant ``participant_id``, or None (absent or another's)."""
    return MeetingParticipant.objects.filter(
        organization=meeting.organization_id, meeting=meeting, pk=participant_id
    ).first()


def meeting_people(*, meeting):
    """Return (roster, waiting): who is in the room and who waits, by display name only."""
    State = MeetingParticipant.State
    people = MeetingParticipant.objects.filter(
        organization=meeting.organization_id,
        meeting=meeting,
        state__in=[State.ADMITTED, State.WAITING],
    ).order_by("arrived_at", "pk")
    roster, waiting = [], []
    for person in people:
        entry = {"id": person.pk, "name": person.display_name, "here": person.sockets > 0}
        if person.state == State.ADMITTED:
            roster.append({**entry, "muted": person.muted})
        else:
            waiting.append(entry)
    return roster, waiting


def meeting_associated_data(meeting_id, seq):
    """Bind an entry's ciphertext to its meeting and place (see policies.crypto)."""
    return f"meeting-message:{meeting_id}:{seq}".encode()


def meeting_entry_frame(*, seq, kind, sender, name, client_id, text, target=None):
    """Return the frame a socket gets for one entry of the log; ``sender`` is for the consumer."""
    Kind = MeetingMessage.Kind
    if kind == Kind.REMOVAL or text is None:
        return {"type": "remove", "seq": seq, "target": target or seq}
    return {
        "type": "pin" if kind == Kind.PIN else "message",
        "seq": seq,
        "from": name,
        "role": "facilitator" if sender.startswith("f") else "participant",
        "sender": sender,
        "client_id": client_id,
        "text": text,
    }


def _entry_text(key, meeting_id, entry):
    if entry.removed or entry.kind == MeetingMessage.Kind.REMOVAL:
        return None
    return decrypt(key, entry.ciphertext, meeting_associated_data(meeting_id, entry.seq))


def meeting_entries_after(*, meeting, key, after_seq):
    """Return the decrypted frames of the log after ``after_seq``, in order."""
    meeting_id = meeting.public_id.hex
    entries = (
        MeetingMessage.objects.filter(
            organization=meeting.organization_id, meeting=meeting, seq__gt=after_seq
        )
        .select_related("participant")
        .order_by("seq")
    )
    return [
        meeting_entry_frame(
            seq=entry.seq,
            kind=entry.kind,
            sender=entry.sender,
            name=entry.participant.display_name if entry.participant else "",
            client_id=entry.client_id,
            text=_entry_text(key, meeting_id, entry),
            target=entry.target_seq,
        )
        for entry in entries
    ]


def meeting_entry_frame_from_event(*, event, key):
    """Decrypt a relayed ``live.entry`` event into the frame sockets receive."""
    ciphertext = event["ciphertext"]
    text = None
    if ciphertext:
        associated = meeting_associated_data(event["meeting"], event["seq"])
        text = decrypt(key, base64.b64decode(ciphertext), associated)
    return meeting_entry_frame(
        seq=event["seq"],
        kind=event["kind"],
        sender=event["sender"],
        name=event["name"],
        client_id=event["client_id"],
        text=text,
        target=event["target"],
    )


def meeting_pin_current(*, meeting, key):
    """Return the frame of the meeting's pinned resource, or None."""
    pin = (
        MeetingMessage.objects.filter(
            organization=meeting.organization_id,
            meeting=meeting,
            kind=MeetingMessage.Kind.PIN,
            removed=False,
        )
        .order_by("-seq")
        .first()
    )
    if pin is None:
        return None
    frame = meeting_entry_frame(
        seq=pin.seq,
        kind=pin.kind,
        sender=pin.sender,
        name="",
        client_id=pin.client_id,
        text=_entry_text(key, meeting.public_id.hex, pin),
    )
    return {**frame, "type": "pinned"}
