"""Moderators' pages: groups, the group agreement, invite links, requests, members, posts,
and group chats' sessions, session invites, attendance and the facilitator's console."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.access import staff_required
from accounts.models import Role
from groups import selectors, services
from groups.forms import (
    AgreementForm,
    GroupSessionForm,
    InviteForm,
    LiveGroupForm,
    ReplyForm,
    SessionInviteForm,
    SupportGroupForm,
    TopicForm,
)
from groups.models import GroupMember
from policies.models import ConsentDocument
from policies.services import consent_document_publish

moderator_required = staff_required(Role.MODERATOR)

MEMBER_ACTIONS = {
    "approve": services.group_member_approve,
    "refuse": services.group_member_refuse,
    "suspend": services.group_member_suspend,
    "reinstate": services.group_member_reinstate,
    "remove": services.group_member_remove,
}

POST_ACTIONS = {
    "approve": services.post_approve,
    "hide": services.post_hide,
    "restore": services.post_restore,
    "keep": services.post_reports_dismiss,
    "pin": services.post_pin,
    "unpin": services.post_unpin,
    "delete": services.post_delete,
}


def _group(request, group_id):
    return selectors.access_support_group(organization=request.organization, group_id=group_id)


def _back(request, fallback):
    """Return to the page the action was taken from, if it is one of ours."""
    target = request.POST.get("next", "")
    return redirect(target if target.startswith("/staff/groups/") else fallback)


@never_cache
@moderator_required
def group_list(request):
    return render(
        request,
        "groups/staff/group_list.html",
        {
            "groups": selectors.support_group_list(organization=request.organization),
            "agreement": services.group_agreement_current(organization=request.organization),
        },
    )


@never_cache
@moderator_required
def group_create(request):
    """Create a forum, or a group chat with ``?kind=live``."""
    live = request.GET.get("kind") == "live"
    form = (LiveGroupForm if live else SupportGroupForm)(request.POST or None)
    if request.method == "POST" and form.is_valid():
        create = services.live_group_create if live else services.support_group_create
        group = create(organization=request.organization, actor=request.user, **form.cleaned_data)
        return redirect("groups_staff:group", group_id=group.pk)
    return render(request, "groups/staff/group_form.html", {"form": form, "live": live})


@never_cache
@moderator_required
def group_edit(request, group_id):
    group = _group(request, group_id)
    form_class = LiveGroupForm if group.is_live else SupportGroupForm
    form = form_class(request.POST or None, instance=group)
    if request.method == "POST" and form.is_valid():
        services.support_group_update(
            organization=request.organization, actor=request.user, group=group, **form.cleaned_data
        )
        messages.success(request, _("Saved."))
        return redirect("groups_staff:group", group_id=group.pk)
    return render(
        request,
        "groups/staff/group_form.html",
        {"form": form, "group": group, "live": group.is_live},
    )


@never_cache
@moderator_required
def agreement_publish(request):
    """Publish a new version of the group agreement; members accept it on their next visit."""
    current = services.group_agreement_current(organization=request.organization)
    initial = {"body_en": current.body_en, "body_fr": current.body_fr} if current else None
    form = AgreementForm(request.POST or None, initial=initial, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        consent_document_publish(
            organization=request.organization,
            actor=request.user,
            kind=ConsentDocument.Kind.GROUP_AGREEMENT,
            **form.cleaned_data,
        )
        messages.success(request, _("The new version of the group agreement is published."))
        return redirect("groups_staff:list")
    return render(request, "groups/staff/agreement_form.html", {"form": form, "current": current})


def _languages(organization):
    """Return (code, name) of the languages the organization offers, its first choice first."""
    names = dict(settings.LANGUAGES)
    offered = organization.languages or list(names)
    return [(code, names[code]) for code in offered if code in names]


def _invite_link(request, token, language, name="groups:join"):
    with translation.override(language):
        path = reverse(name, kwargs={"token": token})
    return request.build_absolute_uri(path)


def _live_context(request, group, session_form=None, new_session_link=None):
    """What a group chat's page shows besides members: its link, sessions and attendance."""
    organization = request.organization
    links = []
    for code, name in _languages(organization):
        with translation.override(code):
            path = reverse("groups:live", kwargs={"link_id": group.link_id})
        links.append((name, request.build_absolute_uri(path)))
    return {
        "links": links,
        "sessions": selectors.group_session_list(organization=organization, group=group),
        "session_form": session_form or GroupSessionForm(),
        "session_invite_form": SessionInviteForm(languages=_languages(organization)),
        "new_session_link": new_session_link,
        "languages": _languages(organization),
        "next_sitting": selectors.sitting_next(
            organization=organization, group=group, now=timezone.now()
        ),
        "attendance": selectors.meeting_attendance_list(organization=organization, group=group),
    }


@never_cache
@moderator_required
def group_detail(request, group_id):
    """A group's requests, members and invite links; a new invite link is shown here once.

    A group chat's page also has its link, its sessions and its attendance.
    """
    organization = request.organization
    group = _group(request, group_id)
    form = InviteForm(request.POST or None, languages=_languages(organization))
    new_link = None
    if request.method == "POST" and form.is_valid():
        try:
            _invite, token = services.group_invite_create(
                organization=organization,
                actor=request.user,
                group=group,
                valid_days=form.cleaned_data["valid_days"],
                max_uses=form.cleaned_data["max_uses"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            new_link = _invite_link(request, token, form.cleaned_data["language"])
            form = None
    return _group_page(request, group, form=form, new_link=new_link)


def _group_page(request, group, form=None, new_link=None, **live):
    organization = request.organization
    State = GroupMember.State
    return render(
        request,
        "groups/staff/group_detail.html",
        {
            "group": group,
            "has_ended": group.has_ended(today=timezone.localdate(timezone=organization.tz)),
            "pending": selectors.group_member_list(
                organization=organization, group=group, states=[State.PENDING]
            ),
            "members": selectors.group_member_list(
                organization=organization,
                group=group,
                states=[State.APPROVED, State.SUSPENDED, State.REMOVED, State.REFUSED],
            ),
            "invites": selectors.group_invite_list(organization=organization, group=group)[:50],
            "form": form or InviteForm(languages=_languages(organization)),
            "new_link": new_link,
            "now": timezone.now(),
            **(_live_context(request, group, **live) if group.is_live else {}),
        },
    )


def _live_group(request, group_id):
    group = _group(request, group_id)
    if not group.is_live:
        raise Http404
    return group


@require_POST
@moderator_required
def live_session_create(request, group_id):
    group = _live_group(request, group_id)
    form = GroupSessionForm(request.POST)
    if form.is_valid():
        try:
            services.group_session_create(
                organization=request.organization,
                actor=request.user,
                group=group,
                **form.cleaned_data,
            )
        except ValidationError as error:
            form.add_error(None, error)
    if form.errors:
        return _group_page(request, group, session_form=form)
    messages.success(request, _("The session is scheduled."))
    return redirect("groups_staff:group", group_id=group.pk)


@require_POST
@moderator_required
def live_session_delete(request, group_id, session_id):
    group = _live_group(request, group_id)
    session = selectors.access_group_session(
        organization=request.organization, group=group, session_id=session_id
    )
    services.group_session_delete(
        organization=request.organization, actor=request.user, session=session
    )
    return redirect("groups_staff:group", group_id=group.pk)


@never_cache
@require_POST
@moderator_required
def live_session_invite(request, group_id, session_id):
    """Make an invite to the session's next sitting; its link is shown once, on this page."""
    group = _live_group(request, group_id)
    session = selectors.access_group_session(
        organization=request.organization, group=group, session_id=session_id
    )
    form = SessionInviteForm(request.POST, languages=_languages(request.organization))
    if form.is_valid():
        try:
            invite, token = services.session_invite_create(
                organization=request.organization,
                actor=request.user,
                session=session,
                max_uses=form.cleaned_data["max_uses"],
            )
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            link = _invite_link(
                request, token, form.cleaned_data["language"], name="groups:live_invite"
            )
            return _group_page(request, group, new_session_link=(invite.meeting, link))
    else:
        messages.error(request, next(iter(form.errors.values()))[0])
    return redirect("groups_staff:group", group_id=group.pk)


@never_cache
@moderator_required
def live_console(request, group_id):
    """The facilitator's console of the sitting open now; otherwise, when the next one opens."""
    group = _live_group(request, group_id)
    organization = request.organization
    meeting = services.meeting_open(organization=organization, group=group)
    return render(
        request,
        "groups/staff/live_console.html",
        {
            "group": group,
            "meeting": meeting,
            "sitting": selectors.sitting_next(
                organization=organization, group=group, now=timezone.now()
            ),
        },
    )


@require_POST
@moderator_required
def invite_revoke(request, group_id, invite_id):
    group = _group(request, group_id)
    invite = selectors.access_group_invite(
        organization=request.organization, group=group, invite_id=invite_id
    )
    services.group_invite_revoke(
        organization=request.organization, actor=request.user, invite=invite
    )
    return redirect("groups_staff:group", group_id=group.pk)


@require_POST
@moderator_required
def member_action(request, group_id, member_id, action):
    if action not in MEMBER_ACTIONS:
        raise Http404
    group = _group(request, group_id)
    member = selectors.access_group_member(
        organization=request.organization, group=group, member_id=member_id
    )
    try:
        MEMBER_ACTIONS[action](organization=request.organization, actor=request.user, member=member)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    return redirect("groups_staff:group", group_id=group.pk)


@require_POST
@moderator_required
def post_action(request, group_id, post_id, action):
    if action not in POST_ACTIONS:
        raise Http404
    group = _group(request, group_id)
    post = selectors.access_post(organization=request.organization, group=group, post_id=post_id)
    try:
        POST_ACTIONS[action](organization=request.organization, actor=request.user, post=post)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    if action == "delete" and "/forum/t/" in request.POST.get("next", ""):
        # The topic may have gone with its last post.
        return redirect("groups_staff:forum", group_id=group.pk)
    return _back(request, reverse("groups_staff:queue", kwargs={"group_id": group.pk}))


@never_cache
@moderator_required
def queue(request, group_id):
    """Posts waiting for approval and reported posts, oldest first."""
    group = _group(request, group_id)
    return render(
        request,
        "groups/staff/queue.html",
        {
            "group": group,
            "posts": selectors.moderation_queue(organization=request.organization, group=group),
        },
    )


@never_cache
@moderator_required
def forum(request, group_id):
    group = _group(request, group_id)
    organization = request.organization
    return render(
        request,
        "groups/staff/forum.html",
        {
            "group": group,
            "pinned": selectors.pinned_posts(organization=organization, group=group),
            "page": selectors.topic_page(
                organization=organization, group=group, page_number=request.GET.get("page")
            ),
        },
    )


@never_cache
@moderator_required
def topic_new(request, group_id):
    """Start a topic as a moderator: a resource, where links are allowed."""
    group = _group(request, group_id)
    form = TopicForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        post = services.post_create(
            organization=request.organization,
            group=group,
            staff=request.user,
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
        )
        return redirect("groups_staff:thread", group_id=group.pk, thread=post.thread)
    return render(request, "groups/staff/topic_new.html", {"group": group, "form": form})


@never_cache
@moderator_required
def thread(request, group_id, thread):
    group = _group(request, group_id)
    page = selectors.thread_page(
        organization=request.organization,
        group=group,
        thread=thread,
        page_number=request.GET.get("page"),
    )
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        post = services.post_create(
            organization=request.organization,
            group=group,
            staff=request.user,
            thread=thread,
            body=form.cleaned_data["body"],
        )
        url = reverse("groups_staff:thread", kwargs={"group_id": group.pk, "thread": thread})
        return redirect(f"{url}?page=last#post-{post.pk}")
    return render(request, "groups/staff/thread.html", {"group": group, "page": page, "form": form})
