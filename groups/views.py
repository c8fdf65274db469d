"""Survivors' pages: the forum (invite page, signing in, her group's forum) and group chats.

A member belongs to one group, so no forum page takes a group id: every read
is scoped to the signed-in member's group. A group chat's pages take its
link's id, looked up in the host's organization only. Every page extends
``survivor/base.html`` (neutral title, quick exit) and is sent with
``Cache-Control: no-store``.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from groups import selectors, services
from groups.access import (
    browser_forget,
    live_participant_ids,
    live_participant_remember,
    member_required,
    member_sign_in,
    member_sign_out,
    session_member,
)
from groups.forms import (
    AgreementAcceptForm,
    JoinForm,
    LiveArrivalForm,
    ReplyForm,
    ReportForm,
    SignInForm,
    TopicForm,
)
from groups.models import GroupMember, MeetingParticipant


def _invite_invalid(request, error):
    return render(
        request,
        "groups/invite_invalid.html",
        {"message": error.messages[0]},
        status=404 if error.code == "unknown" else 410,
    )


def _group_has_ended(request, group):
    return group.has_ended(today=timezone.localdate(timezone=request.organization.tz))


@never_cache
def join(request, token):
    """Show the group's purpose and agreement, and take a request to join it."""
    organization = request.organization
    try:
        invite = services.group_invite_check(organization=organization, token=token)
    except services.InviteError as error:
        return _invite_invalid(request, error)
    agreement = services.group_agreement_current(organization=organization)
    form = JoinForm(
        request.POST or None,
        organization=organization,
        initial={"agreement_version": agreement.version},
    )
    if request.method == "POST" and form.is_valid():
        try:
            member = services.group_member_request(
                organization=organization,
                token=token,
                display_name=form.cleaned_data["display_name"],
                passphrase=form.cleaned_data["passphrase"],
                agreement_version=form.cleaned_data["agreement_version"],
            )
        except services.InviteError as error:
            return _invite_invalid(request, error)
        except ValidationError as error:
            if error.code == "agreement":
                messages.warning(request, error.messages[0])
                return redirect(request.path)
            form.add_error("display_name" if error.code == "name_taken" else None, error)
        else:
            member_sign_in(request, member)
            return redirect("groups:home")
    return render(
        request,
        "groups/join.html",
        {
            "group": invite.group,
            "agreement": agreement.body(get_language()),
            "form": form,
            "suggestions": selectors.display_name_suggestions(
                organization=organization, language=get_language()
            ),
        },
    )


@never_cache
def home(request):
    """Sign a member in, or show her where she stands; approved members go to the forum."""
    member = session_member(request)
    if member is not None:
        if member.state == GroupMember.State.APPROVED:
            return redirect("groups:forum")
        return render(request, "groups/state.html", {"member": member})
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        member = services.group_member_sign_in(
            organization=request.organization,
            display_name=form.cleaned_data["display_name"],
            passphrase=form.cleaned_data["passphrase"],
        )
        if member is not None:
            member_sign_in(request, member)
            return redirect("groups:home")
        form.add_error(
            None,
            _(
                "This name and passphrase do not match. After %(count)d failed tries in a "
                "row, signing in with a name pauses for %(minutes)d minutes."
            )
            % {
                "count": services.SIGN_IN_ATTEMPTS,
                "minutes": services.SIGN_IN_LOCK_MINUTES,
            },
        )
    return render(request, "groups/sign_in.html", {"form": form})


@require_POST
def sign_out(request):
    member_sign_out(request)
    return redirect("groups:home")


@never_cache
def agreement(request):
    """Ask an approved member to accept a newer version of the group agreement."""
    member = session_member(request)
    if member is None or member.state != GroupMember.State.APPROVED:
        return redirect("groups:home")
    document = services.group_agreement_current(organization=request.organization)
    if document is None or member.agreement_version == document.version:
        return redirect("groups:forum")
    form = AgreementAcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.group_member_agreement_accept(
            organization=request.organization, member=member, document=document
        )
        return redirect("groups:forum")
    return render(
        request,
        "groups/agreement.html",
        {"member": member, "agreement": document.body(get_language()), "form": form},
    )


@never_cache
def leave(request):
    """Erase the member, her posts and her name, once she confirms.

    A removed member cannot: she is locked out, and what she wrote stays for
    the moderators until enforce_retention deletes it.
    """
    member = session_member(request)
    if member is None or member.state == GroupMember.State.REMOVED:
        return redirect("groups:home")
    if request.method == "POST":
        services.group_member_leave(organization=request.organization, member=member)
        response = render(request, "groups/left.html")
        browser_forget(request, response)
        return response
    return render(request, "groups/leave.html", {"member": member})


@never_cache
@member_required
def forum(request):
    member = request.member
    organization = request.organization
    return render(
        request,
        "groups/forum.html",
        {
            "member": member,
            "group": member.group,
            "has_ended": _group_has_ended(request, member.group),
            "pinned": selectors.pinned_posts(
                organization=organization, group=member.group, member=member
            ),
            "page": selectors.topic_page(
                organization=organization,
                group=member.group,
                member=member,
                page_number=request.GET.get("page"),
            ),
        },
    )


def _post_or_form_error(form, **kwargs):
    try:
        return services.post_create(**kwargs)
    except ValidationError as error:
        form.add_error(None, error)
        return None


@never_cache
@member_required
def topic_new(request):
    member = request.member
    form = TopicForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        post = _post_or_form_error(
            form,
            organization=request.organization,
            group=member.group,
            member=member,
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
        )
        if post is not None:
            return redirect("groups:thread", thread=post.thread)
    return render(request, "groups/topic_new.html", {"member": member, "form": form})


@never_cache
@member_required
def thread(request, thread):
    member = request.member
    page = selectors.thread_page(
        organization=request.organization,
        group=member.group,
        thread=thread,
        member=member,
        page_number=request.GET.get("page"),
    )
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        post = _post_or_form_error(
            form,
            organization=request.organization,
            group=member.group,
            member=member,
            thread=thread,
            body=form.cleaned_data["body"],
        )
        if post is not None:
            url = reverse("groups:thread", kwargs={"thread": thread})
            return redirect(f"{url}?page=last#post-{post.pk}")
    return render(
        request,
        "groups/thread.html",
        {
            "member": member,
            "group": member.group,
            "has_ended": _group_has_ended(request, member.group),
            "page": page,
            "form": form,
        },
    )


@never_cache
@member_required
def post_edit(request, post_id):
    member = request.member
    post = selectors.access_own_post(
        organization=request.organization, member=member, post_id=post_id
    )
    form_class = TopicForm if post.is_topic else ReplyForm
    form = form_class(request.POST or None, initial={"title": post.title, "body": post.body})
    if request.method == "POST" and form.is_valid():
        try:
            services.post_edit(
                organization=request.organization,
                member=member,
                post=post,
                title=form.cleaned_data.get("title", ""),
                body=form.cleaned_data["body"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            url = reverse("groups:thread", kwargs={"thread": post.thread})
            return redirect(f"{url}#post-{post.pk}")
    return render(request, "groups/post_edit.html", {"member": member, "post": post, "form": form})


@never_cache
@member_required
def post_delete(request, post_id):
    member = request.member
    post = selectors.access_own_post(
        organization=request.organization, member=member, post_id=post_id
    )
    if request.method == "POST":
        services.post_delete_own(organization=request.organization, member=member, post=post)
        messages.success(request, _("Your post was deleted."))
        return redirect("groups:forum")
    return render(request, "groups/post_delete.html", {"member": member, "post": post})


@never_cache
@member_required
def post_report(request, post_id):
    member = request.member
    post = selectors.access_post(
        organization=request.organization, group=member.group, post_id=post_id, member=member
    )
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.post_report(
            organization=request.organization,
            member=member,
            post=post,
            reason=form.cleaned_data["reason"],
        )
        messages.success(request, _("Thank you. A moderator will look at this post."))
        return redirect("groups:thread", thread=post.thread)
    return render(
        request, "groups/post_report.html", {"member": member, "post": post, "form": form}
    )


# Group chats


def _seat(request, group):
    """Return the participant this browser session holds in the group's open meeting, or None."""
    return selectors.participant_of_session(
        organization=request.organization,
        group=group,
        participant_ids=live_participant_ids(request.session),
    )


def _arrival(request, group, invite=None, token=""):
    """The page a group chat's link (or a session invite) opens: who it is for, and arriving.

    Outside a sitting's time it shows when the next one is. A time-limited
    group shows the form only to its approved members (signed in) and to
    holders of an invite to this sitting.
    """
    organization = request.organization
    now = timezone.now()
    State = MeetingParticipant.State
    seat = _seat(request, group)
    if seat is not None and seat.state in (State.REFUSED, State.REMOVED):
        return redirect("groups:live_left", link_id=group.link_id)
    if invite is not None:
        meeting = invite.meeting
        sitting = selectors.Sitting(
            session=meeting.session,
            opens_at=meeting.opens_at,
            starts_at=meeting.starts_at,
            ends_at=meeting.ends_at,
        )
    else:
        meeting = services.meeting_open(organization=organization, group=group, now=now)
        sitting = selectors.sitting_next(organization=organization, group=group, now=now)
    agreement = services.group_agreement_current(organization=organization)
    context = {"group": group, "sitting": sitting, "state": "open"}
    if meeting is None or not meeting.is_open_at(now) or agreement is None:
        return render(request, "groups/live/arrive.html", {**context, "state": "closed"})
    if seat is not None and seat.meeting_id == meeting.pk and seat.state != State.LEFT:
        return redirect("groups:live_room", link_id=group.link_id)
    member = session_member(request)
    if member is not None and (
        member.group_id != group.pk or member.state != GroupMember.State.APPROVED
    ):
        member = None
    if group.ends_on is not None and invite is None and member is None:
        return render(request, "groups/live/arrive.html", {**context, "state": "members_only"})
    form = LiveArrivalForm(
        request.POST or None,
        initial={
            "agreement_version": agreement.version,
            "display_name": member.display_name if member else "",
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            seat = services.participant_arrive(
                organization=organization,
                group=group,
                display_name=form.cleaned_data["display_name"],
                agreement_version=form.cleaned_data["agreement_version"],
                member=member,
                invite_token=token,
                known_participant_ids=live_participant_ids(request.session),
            )
        except services.InviteError as error:
            return _invite_invalid(request, error)
        except ValidationError as error:
            if error.code in (State.REFUSED, State.REMOVED):
                return redirect("groups:live_left", link_id=group.link_id)
            if error.code in ("agreement", "closed", "members_only"):
                messages.warning(request, error.messages[0])
                return redirect(request.path)
            form.add_error("display_name", error)
        else:
            live_participant_remember(request, seat)
            return redirect("groups:live_room", link_id=group.link_id)
    return render(
        request,
        "groups/live/arrive.html",
        {
            **context,
            "form": form,
            "agreement": agreement.body(get_language()),
            "suggestions": []
            if member
            else selectors.display_name_suggestions(
                organization=organization, language=get_language()
            ),
        },
    )


@never_cache
def live(request, link_id):
    return _arrival(
        request, selectors.access_live_group(organization=request.organization, link_id=link_id)
    )


@never_cache
def live_invite(request, token):
    """A session invite: the arrival page of its sitting; its token stays in the address."""
    try:
        invite = services.session_invite_check(organization=request.organization, token=token)
    except services.InviteError as error:
        return _invite_invalid(request, error)
    return _arrival(request, invite.meeting.group, invite=invite, token=token)


@never_cache
def live_room(request, link_id):
    """The room: the waiting room first, then the conversation, over one WebSocket."""
    group = selectors.access_live_group(organization=request.organization, link_id=link_id)
    seat = _seat(request, group)
    if seat is None:
        return redirect("groups:live", link_id=group.link_id)
    if seat.state in (MeetingParticipant.State.REFUSED, MeetingParticipant.State.REMOVED):
        return redirect("groups:live_left", link_id=group.link_id)
    return render(request, "groups/live/room.html", {"group": group, "participant": seat})


@never_cache
def live_left(request, link_id):
    """Where a participant's page goes when the room is over for her: it says why, nothing more."""
    group = selectors.access_live_group(organization=request.organization, link_id=link_id)
    seat = _seat(request, group)
    State = MeetingParticipant.State
    reason = seat.state if seat and seat.state in (State.REFUSED, State.REMOVED, State.LEFT) else ""
    response = render(request, "groups/live/left.html", {"group": group, "reason": reason})
    # Turned away or removed holds for the rest of the sitting, by her session.
    if reason not in (State.REFUSED, State.REMOVED):
        browser_forget(request, response)
    return response
