"""Who is signed in as a forum member, what she may reach, and who sits in a group chat.

A member is signed in by her id in the session on the organization's host,
nothing else. Her state is read again on every request, so a moderator's
refusal, suspension or removal takes effect at once, open sessions included.
A session left idle for ``MEMBER_IDLE_MINUTES`` signs her out: forums are
often read on shared or watched devices.
"""

import functools
import time

from django.conf import settings
from django.shortcuts import redirect

from groups.models import GroupMember
from groups.selectors import group_member_get
from groups.services import group_agreement_current

SESSION_MEMBER_KEY = "forum_member"
SESSION_SEEN_KEY = "forum_member_seen"
MEMBER_IDLE_MINUTES = 30
# The group chat participants this browser session brought in, most recent last.
SESSION_PARTICIPANTS_KEY = "live_participants"
SESSION_PARTICIPANTS_KEPT = 10


def member_sign_in(request, member):
    # A new session key, so a key known before signing in is worth nothing after.
    request.session.cycle_key()
    request.session[SESSION_MEMBER_KEY] = member.pk
    request.session[SESSION_SEEN_KEY] = time.time()


def member_sign_out(request):
    request.session.flush()


def browser_forget(request, response):
    """Sign out and drop the CSRF cookie: what is over for her leaves no cookie behind."""
    member_sign_out(request)
    response.delete_cookie(settings.CSRF_COOKIE_NAME, samesite=settings.CSRF_COOKIE_SAMESITE)


def session_member(request):
    """Return the member signed in on this session, or None (signing out a stale session)."""
    member_id = request.session.get(SESSION_MEMBER_KEY)
    if member_id is None:
        return None
    seen = request.session.get(SESSION_SEEN_KEY, 0)
    member = None
    if time.time() - seen <= MEMBER_IDLE_MINUTES * 60:
        member = group_member_get(organization=request.organization, member_id=member_id)
    if member is None:
        member_sign_out(request)
        return None
    request.session[SESSION_SEEN_KEY] = time.time()
    return member


def member_required(view):
    """Let through an approved member who has accepted the current group agreement.

    Anyone else goes to the forum's home page, which shows where she stands.
    Sets ``request.member`` (with her group).
    """

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        member = session_member(request)
        if member is None or member.state != GroupMember.State.APPROVED:
            return redirect("groups:home")
        if member.group.is_live:
            # A group chat's members have no forum: their group meets on its page.
            return redirect("groups:live", link_id=member.group.link_id)
        agreement = group_agreement_current(organization=request.organization)
        if agreement is not None and member.agreement_version != agreement.version:
            return redirect("groups:agreement")
        request.member = member
        return view(request, *args, **kwargs)

    return wrapper


def live_participant_ids(session):
    """Return the ids of the group chat participants the session holds (a session object)."""
    ids = session.get(SESSION_PARTICIPANTS_KEY, [])
    return [pk for pk in ids if isinstance(pk, int)] if isinstance(ids, list) else []


def live_participant_remember(request, participant):
    """Keep the participant's id in the session: her sockets and pages know her by it.

    The session, and its cookie, then end with the sitting at the latest.
    """
    ids = [pk for pk in live_participant_ids(request.session) if pk != participant.pk]
    request.session[SESSION_PARTICIPANTS_KEY] = [*ids, participant.pk][-SESSION_PARTICIPANTS_KEPT:]
    request.session.set_expiry(participant.meeting.ends_at)
