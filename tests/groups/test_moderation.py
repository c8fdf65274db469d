"""Moderators approve people and posts, act on reports, pin resources; every action is audited."""

import re

import pytest

from groups.models import GroupMember, Post, PostReport, SupportGroup
from groups.services import post_create
from policies.models import AuditEntry, ConsentDocument
from policies.services import consent_document_publish
from policies.tenancy import organization_context
from tests.factories import client_for
from tests.groups.conftest import group_create, member_client, member_create

pytestmark = pytest.mark.django_db

State = GroupMember.State


def _audit(organization):
    with organization_context(organization):
        return list(AuditEntry.objects.order_by("id").values_list("action", "target_id"))


def _post(organization, group, member, title="A topic", body="Some words"):
    with organization_context(organization):
        return post_create(
            organization=organization, group=group, member=member, title=title, body=body
        )


def _status(organization, post):
    with organization_context(organization):
        post.refresh_from_db()
    return post.status


def test_requests_are_listed_and_approved_or_refused(organization, moderator, group):
    first = member_create(organization, group, state=State.PENDING, display_name="Kind Fern")
    second = member_create(organization, group, state=State.PENDING, display_name="Warm Tide")
    staff = client_for(organization, moderator)
    page = staff.get(f"/staff/groups/{group.pk}/").content.decode()
    assert "Kind Fern" in page and "Warm Tide" in page
    listing = staff.get("/staff/groups/").content.decode()
    assert re.search(r"Tuesday circle</a></td><td>2</td>", listing)
    staff.post(f"/staff/groups/{group.pk}/members/{first.pk}/approve/")
    staff.post(f"/staff/groups/{group.pk}/members/{second.pk}/refuse/")
    with organization_context(organization):
        states = dict(GroupMember.objects.values_list("display_name", "state"))
    assert states == {"Kind Fern": State.APPROVED, "Warm Tide": State.REFUSED}
    assert _audit(organization)[-2:] == [
        ("forum.member.approve", str(first.pk)),
        ("forum.member.refuse", str(second.pk)),
    ]
    # A decided request cannot be decided again.
    response = staff.post(f"/staff/groups/{group.pk}/members/{second.pk}/approve/", follow=True)
    assert "has changed meanwhile" in response.content.decode()
    with organization_context(organization):
        second.refresh_from_db()
    assert second.state == State.REFUSED


def test_members_are_suspended_reinstated_and_removed(organization, moderator, group, member):
    staff = client_for(organization, moderator)
    for action, state in (
        ("suspend", State.SUSPENDED),
        ("reinstate", State.APPROVED),
        ("remove", State.REMOVED),
    ):
        staff.post(f"/staff/groups/{group.pk}/members/{member.pk}/{action}/")
        with organization_context(organization):
            member.refresh_from_db()
        assert member.state == state
    assert _audit(organization)[-3:] == [
        ("forum.member.suspend", str(member.pk)),
        ("forum.member.reinstate", str(member.pk)),
        ("forum.member.remove", str(member.pk)),
    ]
    assert [action for action, _target in _audit(organization)] == [
        "consent.publish",
        "forum.group.create",
        "forum.member.suspend",
        "forum.member.reinstate",
        "forum.member.remove",
    ]
    assert staff.post(f"/staff/groups/{group.pk}/members/{member.pk}/explode/").status_code == 404


def test_reported_posts_are_hidden_restored_kept_or_deleted(organization, moderator, group, member):
    reporter = member_create(organization, group, display_name="Calm Wren")
    posts = {name: _post(organization, group, member, title=name) for name in ("a", "b", "c")}
    reporting = member_client(organization, reporter)
    for post in posts.values():
        reporting.post(f"/en/groups/forum/p/{post.pk}/report/", {"reason": "hurtful"})
    staff = client_for(organization, moderator)
    queue = staff.get(f"/staff/groups/{group.pk}/queue/").content.decode()
    assert queue.count('class="post"') == 3
    assert "It is hurtful or harassing" in queue
    assert "Calm Wren" not in queue

    base = f"/staff/groups/{group.pk}/posts"
    staff.post(f"{base}/{posts['a'].pk}/hide/")
    staff.post(f"{base}/{posts['b'].pk}/keep/")
    staff.post(f"{base}/{posts['c'].pk}/delete/")
    assert _status(organization, posts["a"]) == Post.Status.HIDDEN
    assert _status(organization, posts["b"]) == Post.Status.PUBLISHED
    with organization_context(organization):
        assert not Post.objects.filter(pk=posts["c"].pk).exists()
        assert not PostReport.objects.filter(resolved_at__isnull=True).exists()
    assert "Nothing to review" in staff.get(f"/staff/groups/{group.pk}/queue/").content.decode()

    # Hidden: gone for other members, marked for its author.
    assert '<bdi dir="auto">a</bdi>' not in reporting.get("/en/groups/forum/").content.decode()
    assert '<bdi dir="auto">b</bdi>' in reporting.get("/en/groups/forum/").content.decode()
    assert reporting.get(f"/en/groups/forum/t/{posts['a'].thread}/").status_code == 404
    own = member_client(organization, member).get(f"/en/groups/forum/t/{posts['a'].thread}/")
    assert "A moderator hid this post" in own.content.decode()

    staff.post(f"{base}/{posts['a'].pk}/restore/")
    assert _status(organization, posts["a"]) == Post.Status.PUBLISHED
    assert reporting.get(f"/en/groups/forum/t/{posts['a'].thread}/").status_code == 200
    assert _audit(organization)[-4:] == [
        ("forum.post.hide", str(posts["a"].pk)),
        ("forum.post.keep", str(posts["b"].pk)),
        ("forum.post.delete", str(posts["c"].pk)),
        ("forum.post.restore", str(posts["a"].pk)),
    ]


def test_audit_entries_carry_no_content(organization, moderator, group, member):
    post = _post(organization, group, member, title="Private title", body="Private words")
    staff = client_for(organization, moderator)
    staff.post(f"/staff/groups/{group.pk}/posts/{post.pk}/hide/")
    staff.post(f"/staff/groups/{group.pk}/members/{member.pk}/remove/")
    with organization_context(organization):
        rows = str(list(AuditEntry.objects.values_list()))
    for secret in ("Private", "Quiet River"):
        assert secret not in rows


def test_moderators_pin_resources_not_members_posts(organization, moderator, group, member):
    staff = client_for(organization, moderator)
    response = staff.post(
        f"/staff/groups/{group.pk}/forum/new/",
        {"title": "Where to find help", "body": "Call 1-800-555-0100 or https://example.org"},
    )
    assert response.status_code == 302
    with organization_context(organization):
        resource = Post.objects.get()
    assert resource.is_from_staff and resource.status == Post.Status.PUBLISHED
    staff.post(f"/staff/groups/{group.pk}/posts/{resource.pk}/pin/")
    page = member_client(organization, member).get("/en/groups/forum/").content.decode()
    pinned = page.split('class="pinned"')[1].split("</section>")[0]
    assert "Where to find help" in pinned
    staff.post(f"/staff/groups/{group.pk}/posts/{resource.pk}/unpin/")
    assert (
        'class="pinned"'
        not in member_client(organization, member).get("/en/groups/forum/").content.decode()
    )

    theirs = _post(organization, group, member)
    response = staff.post(f"/staff/groups/{group.pk}/posts/{theirs.pk}/pin/", follow=True)
    assert "Only moderators&#x27; posts can be pinned" in response.content.decode()
    with organization_context(organization):
        assert not Post.objects.filter(pinned=True).exists()
    assert [action for action, _target in _audit(organization)][-3:] == [
        "forum.post.create",
        "forum.post.pin",
        "forum.post.unpin",
    ]


def test_pre_moderation_holds_every_members_post(organization, moderator, member):
    group = group_create(organization, name="Held", moderation=SupportGroup.Moderation.PRE)
    author = member_create(organization, group, display_name="Warm Tide")
    reader = member_create(organization, group, display_name="Kind Fern")
    writer = member_client(organization, author)
    response = writer.post("/en/groups/forum/new/", {"title": "Held back", "body": "wait"})
    with organization_context(organization):
        post = Post.objects.get()
    assert post.status == Post.Status.PENDING
    assert "approval" in writer.get(response.url).content.decode()
    other = member_client(organization, reader)
    assert "Held back" not in other.get("/en/groups/forum/").content.decode()
    assert other.get(response.url).status_code == 404

    staff = client_for(organization, moderator)
    assert "Held back" in staff.get(f"/staff/groups/{group.pk}/queue/").content.decode()
    staff.post(f"/staff/groups/{group.pk}/posts/{post.pk}/approve/")
    assert _status(organization, post) == Post.Status.PUBLISHED
    assert "Held back" in other.get("/en/groups/forum/").content.decode()
    assert _audit(organization)[-1] == ("forum.post.approve", str(post.pk))

    # An edit is read again before others see it.
    writer.post(f"/en/groups/forum/p/{post.pk}/edit/", {"title": "Held back", "body": "changed"})
    assert _status(organization, post) == Post.Status.PENDING
    assert other.get(response.url).status_code == 404

    # Moderators' own posts are not held.
    staff.post(f"/staff/groups/{group.pk}/forum/t/{post.thread}/", {"body": "welcome"})
    with organization_context(organization):
        assert Post.objects.get(author_staff=moderator).status == Post.Status.PUBLISHED


def test_moderators_create_and_edit_groups(organization, moderator, agreement):
    staff = client_for(organization, moderator)
    response = staff.post(
        "/staff/groups/new/",
        {
            "name": "Evening circle",
            "purpose": "Support after leaving",
            "facilitation": "Read twice a day",
            "ends_on": "",
            "moderation": "pre",
            "post_retention_days": 60,
        },
    )
    assert response.status_code == 302
    with organization_context(organization):
        group = SupportGroup.objects.get()
    assert (group.moderation, group.post_retention_days, group.ends_on) == ("pre", 60, None)
    too_long = staff.post(
        f"/staff/groups/{group.pk}/edit/",
        {
            "name": "Evening circle",
            "purpose": "p",
            "facilitation": "f",
            "moderation": "post",
            "post_retention_days": 366,
        },
    )
    assert "Choose between 1 and 365 days" in too_long.content.decode()
    staff.post(
        f"/staff/groups/{group.pk}/edit/",
        {
            "name": "Evening circle",
            "purpose": "p",
            "facilitation": "f",
            "ends_on": "2030-06-30",
            "moderation": "post",
            "post_retention_days": 30,
        },
    )
    with organization_context(organization):
        group.refresh_from_db()
    assert (group.moderation, group.post_retention_days, str(group.ends_on)) == (
        "post",
        30,
        "2030-06-30",
    )
    assert [action for action, _target in _audit(organization)][-2:] == [
        "forum.group.create",
        "forum.group.update",
    ]


def test_moderators_publish_the_group_agreement(organization, moderator):
    staff = client_for(organization, moderator)
    assert "No group agreement yet" in staff.get("/staff/groups/").content.decode()
    staff.post(
        "/staff/groups/agreement/",
        {"body_en": "No screenshots.", "body_fr": "Pas de captures d'écran."},
    )
    assert "Version 1" in staff.get("/staff/groups/").content.decode()
    assert _audit(organization)[-1][0] == "consent.publish"


def test_the_agreement_form_refuses_the_chat_notice(organization, moderator):
    with organization_context(organization):
        consent_document_publish(
            organization=organization,
            actor=None,
            kind=ConsentDocument.Kind.CHAT_NOTICE,
            body_en="Erased when the chat ends.",
            body_fr="Effacé à la fin du clavardage.",
        )
    staff = client_for(organization, moderator)
    response = staff.post(
        "/staff/groups/agreement/",
        {"body_en": "Erased when the chat ends.", "body_fr": "Pas de captures d'écran."},
    )
    assert response.status_code == 200
    assert "must be different texts" in response.content.decode()
    assert "No group agreement yet" in staff.get("/staff/groups/").content.decode()
