"""Who reaches what: approval gates every page; one group, one organization; lock-outs at once."""

import time

import pytest

from accounts.models import Role
from groups.access import SESSION_MEMBER_KEY, SESSION_SEEN_KEY
from groups.models import GroupMember, Post
from groups.services import group_member_approve, post_create
from policies.models import ConsentRecord
from policies.tenancy import organization_context
from tests.factories import client_for, staff_create
from tests.groups.conftest import agreement_publish, group_create, member_client, member_create

pytestmark = pytest.mark.django_db

State = GroupMember.State


def _post(organization, group, member, title="A topic", body="Words of the topic", thread=None):
    with organization_context(organization):
        return post_create(
            organization=organization,
            group=group,
            member=member,
            title=title if thread is None else "",
            body=body,
            thread=thread,
        )


def _member_pages(post):
    return [
        "/en/groups/forum/",
        "/en/groups/forum/new/",
        f"/en/groups/forum/t/{post.thread}/",
        f"/en/groups/forum/p/{post.pk}/edit/",
        f"/en/groups/forum/p/{post.pk}/delete/",
        f"/en/groups/forum/p/{post.pk}/report/",
    ]


@pytest.mark.parametrize("state", [State.PENDING, State.REFUSED, State.SUSPENDED, State.REMOVED])
def test_approval_gates_every_page_of_the_group(organization, group, member, state):
    post = _post(organization, group, member, body="Only for approved eyes")
    outsider = member_create(organization, group, state=state)
    client = member_client(organization, outsider)
    for path in _member_pages(post):
        for method in (client.get, client.post):
            response = method(path, {"title": "t", "body": "b", "reason": "other"})
            assert response.status_code == 302, path
            assert response.url == "/en/groups/", path
    assert "Only for approved eyes" not in client.get("/en/groups/").content.decode()
    with organization_context(organization):
        assert Post.objects.count() == 1
        assert not outsider.posts.exists()


def test_without_a_session_every_page_leads_to_signing_in(organization, group, member):
    post = _post(organization, group, member)
    client = client_for(organization)
    for path in _member_pages(post):
        assert client.get(path).url == "/en/groups/"
    assert "Sign in to your group" in client.get("/en/groups/").content.decode()


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (State.PENDING, "Your request is waiting"),
        (State.REFUSED, "Your request was not accepted"),
        (State.SUSPENDED, "Your membership is paused"),
        (State.REMOVED, "You are no longer a member"),
    ],
)
def test_a_member_sees_where_she_stands(organization, group, state, message):
    client = member_client(organization, member_create(organization, group, state=state))
    page = client.get("/en/groups/")
    assert page.status_code == 200
    assert message in page.content.decode()
    assert "no-store" in page["Cache-Control"]


def test_approved_member_goes_to_her_group(organization, group, member):
    client = member_client(organization, member)
    assert client.get("/en/groups/").url == "/en/groups/forum/"
    assert client.get("/en/groups/forum/").status_code == 200


def test_a_member_of_one_group_cannot_read_another(organization, group, member):
    other_group = group_create(organization, name="Thursday circle")
    stranger = member_create(organization, other_group)
    theirs = _post(organization, other_group, stranger, title="Their topic", body="Their words")
    client = member_client(organization, member)
    forum = client.get("/en/groups/forum/").content.decode()
    assert "Their topic" not in forum and "Thursday circle" not in forum
    assert client.get(f"/en/groups/forum/t/{theirs.thread}/").status_code == 404
    for action in ("edit", "delete", "report"):
        assert client.get(f"/en/groups/forum/p/{theirs.pk}/{action}/").status_code == 404
        assert client.post(f"/en/groups/forum/p/{theirs.pk}/{action}/").status_code == 404
    response = client.post(f"/en/groups/forum/t/{theirs.thread}/", {"body": "sneaking in"})
    assert response.status_code == 404
    with organization_context(organization):
        assert list(Post.objects.filter(thread=theirs.thread)) == [theirs]


def test_a_session_from_another_organization_is_worth_nothing(
    organization, other_organization, group
):
    agreement_publish(other_organization)
    theirs = member_create(other_organization, group_create(other_organization))
    client = client_for(organization)
    session = client.session
    session[SESSION_MEMBER_KEY] = theirs.pk
    session[SESSION_SEEN_KEY] = time.time()
    session.save()
    assert client.get("/en/groups/forum/").url == "/en/groups/"
    assert "Sign in to your group" in client.get("/en/groups/").content.decode()


def test_refusal_locks_out_an_open_session_at_once(organization, moderator, group):
    waiting = member_create(organization, group, state=State.PENDING)
    client = member_client(organization, waiting)
    assert "Your request is waiting" in client.get("/en/groups/").content.decode()
    client_for(organization, moderator).post(
        f"/staff/groups/{group.pk}/members/{waiting.pk}/refuse/"
    )
    assert "Your request was not accepted" in client.get("/en/groups/").content.decode()
    assert client.get("/en/groups/forum/").url == "/en/groups/"


@pytest.mark.parametrize(
    ("action", "message"),
    [("remove", "You are no longer a member"), ("suspend", "Your membership is paused")],
)
def test_removal_and_suspension_lock_out_an_open_session_at_once(
    organization, moderator, group, member, action, message
):
    post = _post(organization, group, member, body="Still mine")
    client = member_client(organization, member)
    assert client.get(f"/en/groups/forum/t/{post.thread}/").status_code == 200
    client_for(organization, moderator).post(
        f"/staff/groups/{group.pk}/members/{member.pk}/{action}/"
    )
    response = client.get(f"/en/groups/forum/t/{post.thread}/")
    assert response.url == "/en/groups/"
    assert message in client.get("/en/groups/").content.decode()
    reply = client.post(f"/en/groups/forum/t/{post.thread}/", {"body": "one more"})
    assert reply.url == "/en/groups/"
    with organization_context(organization):
        assert Post.objects.count() == 1


def test_approval_opens_the_group_in_the_open_session(organization, moderator, group):
    waiting = member_create(organization, group, state=State.PENDING)
    client = member_client(organization, waiting)
    assert client.get("/en/groups/forum/").status_code == 302
    with organization_context(organization):
        group_member_approve(organization=organization, actor=moderator, member=waiting)
    assert client.get("/en/groups/forum/").status_code == 200


def test_an_idle_session_signs_out(organization, group, member):
    client = member_client(organization, member)
    session = client.session
    session[SESSION_SEEN_KEY] = time.time() - 31 * 60
    session.save()
    assert client.get("/en/groups/forum/").url == "/en/groups/"
    assert SESSION_MEMBER_KEY not in client.session


def test_a_new_agreement_must_be_accepted_before_reading_on(organization, group, member):
    client = member_client(organization, member)
    newer = agreement_publish(organization, body_en="Be kind. No screenshots.", body_fr="x")
    assert client.get("/en/groups/forum/").url == "/en/groups/agreement/"
    page = client.get("/en/groups/agreement/").content.decode()
    assert "Be kind. No screenshots." in page
    assert client.post("/en/groups/agreement/", {}).status_code == 200
    assert client.post("/en/groups/agreement/", {"accept": "on"}).url == "/en/groups/forum/"
    assert client.get("/en/groups/forum/").status_code == 200
    with organization_context(organization):
        member.refresh_from_db()
        assert member.agreement_version == newer.version
        assert ConsentRecord.objects.filter(document=newer).count() == 1


def test_sign_out_ends_the_session(organization, group, member):
    client = member_client(organization, member)
    assert client.post("/en/groups/sign-out/").url == "/en/groups/"
    assert client.get("/en/groups/forum/").url == "/en/groups/"


STAFF_PAGES = ["/staff/groups/", "/staff/groups/new/", "/staff/groups/agreement/"]


def _staff_group_pages(group):
    return [
        f"/staff/groups/{group.pk}/",
        f"/staff/groups/{group.pk}/edit/",
        f"/staff/groups/{group.pk}/queue/",
        f"/staff/groups/{group.pk}/forum/",
        f"/staff/groups/{group.pk}/forum/new/",
    ]


def test_only_moderators_reach_the_staff_pages(organization, group, worker, moderator):
    admin = staff_create(organization, [Role.ORG_ADMIN, Role.SUPERVISOR])
    for user in (worker, admin):
        client = client_for(organization, user)
        for path in STAFF_PAGES + _staff_group_pages(group):
            assert client.get(path).status_code == 404, path
    client = client_for(organization, moderator)
    for path in STAFF_PAGES + _staff_group_pages(group):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"], path


def test_moderators_of_another_organization_reach_nothing_here(
    organization, other_organization, group, member
):
    theirs = staff_create(other_organization, [Role.MODERATOR])
    post = _post(organization, group, member)
    client = client_for(organization, theirs)
    for path in STAFF_PAGES + _staff_group_pages(group):
        assert client.get(path).status_code == 404, path
    response = client.post(f"/staff/groups/{group.pk}/posts/{post.pk}/hide/")
    assert response.status_code == 404
    # On their own host, this organization's group does not exist.
    own = client_for(other_organization, theirs)
    for path in _staff_group_pages(group):
        assert own.get(path).status_code == 404, path
    assert own.post(f"/staff/groups/{group.pk}/members/{member.pk}/remove/").status_code == 404
    with organization_context(organization):
        member.refresh_from_db()
        assert member.state == State.APPROVED
        assert Post.objects.get().status == Post.Status.PUBLISHED
