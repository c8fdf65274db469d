"""Members post, edit, delete and leave; text is plain, in any script, never cached."""

import datetime

import pytest
from django.utils import timezone

from groups.models import GroupMember, Post, PostReport
from groups.selectors import POSTS_PER_PAGE
from groups.services import post_create
from policies.tenancy import organization_context
from tests.factories import client_for
from tests.groups.conftest import member_client, member_create

pytestmark = pytest.mark.django_db

FRENCH = "Bonjour à toutes, je suis là.\nMerci de m'écouter."
ARABIC = "مرحبا بكن، أنا هنا"


def _topic(client, title, body):
    response = client.post("/en/groups/forum/new/", {"title": title, "body": body})
    assert response.status_code == 302, response.content.decode()
    return response.url


def test_topics_and_replies_in_any_script(organization, group, member):
    client = member_client(organization, member)
    thread_url = _topic(client, "Première fois ici", FRENCH)
    reply = client.post(thread_url, {"body": ARABIC})
    assert reply.status_code == 302
    page = client.get(thread_url)
    html = page.content.decode()
    assert "no-store" in page["Cache-Control"]
    assert '<h1 dir="auto">Première fois ici</h1>' in html
    assert "Bonjour à toutes, je suis là.<br>Merci de m&#x27;écouter." in html
    assert f'<div class="post-body" dir="auto">{ARABIC}</div>' in html
    assert '<bdi dir="auto">Quiet River</bdi>' in html
    forum = client.get("/en/groups/forum/")
    assert "no-store" in forum["Cache-Control"]
    assert "Première fois ici" in forum.content.decode()


def test_text_is_plain_and_members_links_are_not_links(organization, moderator, group, member):
    client = member_client(organization, member)
    thread_url = _topic(
        client, "<b>bold</b>", '<script>alert(1)</script> see https://example.com/x "quoted"'
    )
    html = client.get(thread_url).content.decode()
    assert "<script>alert" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="https://example.com/x"' not in html
    staff = client_for(organization, moderator)
    staff.post(
        f"/staff/groups/{group.pk}/forum/t/{thread_url.rsplit('/', 2)[-2]}/",
        {"body": "Help line: https://example.org/help"},
    )
    html = client.get(thread_url + "?page=last").content.decode()
    assert '<a href="https://example.org/help" rel="nofollow">' in html
    # Members see that a moderator wrote it, not her staff account's name.
    assert '<span class="badge">Moderator</span>' in html
    assert moderator.username not in html


def test_a_member_edits_and_deletes_her_own_posts_only(organization, group, member):
    other = member_create(organization, group, display_name="Calm Wren")
    client = member_client(organization, member)
    thread_url = _topic(client, "Mine", "first words")
    with organization_context(organization):
        mine = Post.objects.get()
        theirs = post_create(
            organization=organization, group=group, member=other, thread=mine.thread, body="reply"
        )
    response = client.post(
        f"/en/groups/forum/p/{mine.pk}/edit/", {"title": "Mine, edited", "body": "second words"}
    )
    assert response.status_code == 302
    html = client.get(thread_url).content.decode()
    assert "second words" in html and "first words" not in html and "edited" in html
    assert client.get(f"/en/groups/forum/p/{theirs.pk}/edit/").status_code == 404
    assert client.post(f"/en/groups/forum/p/{theirs.pk}/delete/").status_code == 404

    assert client.post(f"/en/groups/forum/p/{mine.pk}/delete/").status_code == 302
    with organization_context(organization):
        assert list(Post.objects.all()) == [theirs]
    # The reply stays, under a topic whose first post is gone.
    html = client.get("/en/groups/forum/").content.decode()
    assert "the first post of this topic is not shown" in html
    assert client.get(thread_url).status_code == 200


def test_leaving_erases_her_name_posts_and_reports_at_once(organization, group, member):
    other = member_create(organization, group, display_name="Calm Wren")
    with organization_context(organization):
        hers = post_create(
            organization=organization, group=group, member=member, title="Hers", body="x"
        )
        reply = post_create(
            organization=organization, group=group, member=other, thread=hers.thread, body="y"
        )
        theirs = post_create(
            organization=organization, group=group, member=other, title="Theirs", body="z"
        )
        PostReport.objects.create(
            organization=organization, post=theirs, reporter=member, reason="other"
        )
        PostReport.objects.create(organization=organization, post=hers, reporter=other, reason="o")
    client = member_client(organization, member)
    assert "cannot be undone" in client.get("/en/groups/leave/").content.decode()
    assert "You have left the group" in client.post("/en/groups/leave/").content.decode()
    with organization_context(organization):
        assert not GroupMember.objects.filter(pk=member.pk).exists()
        assert set(Post.objects.all()) == {reply, theirs}
        assert not PostReport.objects.exists()
    assert client.get("/en/groups/forum/").url == "/en/groups/"
    assert "Sign in to your group" in client.get("/en/groups/").content.decode()


def test_a_waiting_member_can_withdraw_but_a_removed_one_cannot_erase(organization, group):
    waiting = member_create(organization, group, state=GroupMember.State.PENDING)
    member_client(organization, waiting).post("/en/groups/leave/")
    removed = member_create(organization, group, state=GroupMember.State.REMOVED)
    assert member_client(organization, removed).post("/en/groups/leave/").url == "/en/groups/"
    with organization_context(organization):
        assert list(GroupMember.objects.values_list("pk", flat=True)) == [removed.pk]


def test_members_see_each_other_only_by_their_posts(organization, group, member):
    member_create(organization, group, display_name="Silent Birch")
    client = member_client(organization, member)
    _topic(client, "Hello", "hi")
    pages = [client.get("/en/groups/forum/").content.decode()]
    assert all("Silent Birch" not in page for page in pages)


def test_a_removed_members_posts_are_hidden_from_members_not_moderators(
    organization, moderator, group, member
):
    removed = member_create(organization, group, display_name="Gone Away")
    with organization_context(organization):
        post = post_create(
            organization=organization, group=group, member=removed, title="Gone", body="old words"
        )
    staff = client_for(organization, moderator)
    staff.post(f"/staff/groups/{group.pk}/members/{removed.pk}/remove/")
    client = member_client(organization, member)
    assert "Gone" not in client.get("/en/groups/forum/").content.decode()
    assert client.get(f"/en/groups/forum/t/{post.thread}/").status_code == 404
    html = staff.get(f"/staff/groups/{group.pk}/forum/t/{post.thread}/").content.decode()
    assert "old words" in html and "was removed" in html


def test_reporting_a_post(organization, group, member):
    author = member_create(organization, group, display_name="Calm Wren")
    with organization_context(organization):
        post = post_create(
            organization=organization, group=group, member=author, title="T", body="b"
        )
    client = member_client(organization, member)
    form = client.get(f"/en/groups/forum/p/{post.pk}/report/").content.decode()
    assert "It shares someone&#x27;s personal details" in form
    response = client.post(f"/en/groups/forum/p/{post.pk}/report/", {"reason": "hurtful"})
    assert response.status_code == 302
    client.post(f"/en/groups/forum/p/{post.pk}/report/", {"reason": "safety"})
    with organization_context(organization):
        report = PostReport.objects.get()
        assert (report.reporter, report.reason, report.resolved_at) == (member, "safety", None)


def test_an_ended_group_can_be_read_not_posted_in(organization, group, member):
    client = member_client(organization, member)
    thread_url = _topic(client, "Before the end", "words")
    with organization_context(organization):
        group.ends_on = timezone.localdate(timezone=organization.tz) - datetime.timedelta(days=1)
        group.save()
    html = client.get("/en/groups/forum/").content.decode()
    assert "This group has ended" in html and "Before the end" in html
    response = client.post(thread_url, {"body": "after the end"})
    assert "This group has ended: no one can post." in response.content.decode()
    response = client.post("/en/groups/forum/new/", {"title": "late", "body": "late"})
    assert "it can still be read, not posted in" in response.content.decode()
    with organization_context(organization):
        assert Post.objects.count() == 1


def test_a_reply_lands_on_the_last_page(organization, group, member):
    client = member_client(organization, member)
    thread_url = _topic(client, "Long one", "start")
    with organization_context(organization):
        thread = Post.objects.get().thread
        for number in range(POSTS_PER_PAGE):
            post_create(
                organization=organization,
                group=group,
                member=member,
                thread=thread,
                body=f"reply {number}",
            )
    response = client.post(thread_url, {"body": "the newest reply"})
    assert response.url.startswith(thread_url + "?page=last#post-")
    last_page = client.get(thread_url + "?page=last").content.decode()
    assert "the newest reply" in last_page and "Page 2 of 2" in last_page
    assert "the newest reply" not in client.get(thread_url).content.decode()
