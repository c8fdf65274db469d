"""A forum of 10,000 posts renders its pages in as many queries as a forum of three."""

import pytest

from groups.models import Post
from policies.crypto import encrypt
from policies.keys import organization_data_key
from policies.tenancy import organization_context
from tests.factories import client_for
from tests.groups.conftest import member_client, member_create

pytestmark = pytest.mark.django_db

# Every page: the organization of the host, the session, and the session saved
# (with its last activity), each one call: 3 queries.
# Then the member, the agreement's version, pinned posts, the count of topics,
# a page of topics, their first posts, the data key.
FORUM_PAGE_QUERIES = 3 + 7
# The member, the agreement's version, the count of posts, a page of posts, the data key.
THREAD_PAGE_QUERIES = 3 + 5
# The staff account, its device, its membership, the group, pinned posts, the
# count of topics, a page of topics, their first posts, the data key.
STAFF_FORUM_PAGE_QUERIES = 3 + 9


def _posts_create(organization, group, authors, topics, per_topic):
    """Bulk-create ``topics`` topics of ``per_topic`` posts each, encrypted as the services do."""
    with organization_context(organization):
        key = organization_data_key(organization=organization)
        posts = []
        for topic in range(topics):
            opener = None
            for number in range(per_topic):
                post = Post(
                    organization=organization,
                    group=group,
                    author_member=authors[(topic + number) % len(authors)],
                    status=Post.Status.PUBLISHED,
                )
                opener = opener or post
                post.thread = opener.id
                if post is opener:
                    post.title_sealed = encrypt(
                        key, f"Topic {topic}", post.associated_data("title")
                    )
                post.body_sealed = encrypt(
                    key, f"Post {number} ✓ مرحبا", post.associated_data("body")
                )
                posts.append(post)
        Post.objects.bulk_create(posts, batch_size=2000)
        return posts


@pytest.fixture
def authors(organization, group, member):
    return [member, *(member_create(organization, group) for _ in range(4))]


@pytest.mark.parametrize(("topics", "per_topic"), [(1, 3), (200, 50)])
def test_forum_page_queries_do_not_grow_with_posts(
    organization, group, member, authors, moderator, topics, per_topic, django_assert_num_queries
):
    _posts_create(organization, group, authors, topics, per_topic)
    client = member_client(organization, member)
    staff = client_for(organization, moderator)
    with django_assert_num_queries(FORUM_PAGE_QUERIES):
        page = client.get("/en/groups/forum/")
    assert page.status_code == 200
    assert page.content.decode().count("<tr>") == min(topics, 30) + 1
    with django_assert_num_queries(STAFF_FORUM_PAGE_QUERIES):
        assert staff.get(f"/staff/groups/{group.pk}/forum/").status_code == 200


@pytest.mark.parametrize("per_topic", [3, 10_000])
def test_thread_page_queries_do_not_grow_with_posts(
    organization, group, member, authors, per_topic, django_assert_num_queries
):
    posts = _posts_create(organization, group, authors, 1, per_topic)
    client = member_client(organization, member)
    for page_number in ("1", "last"):
        with django_assert_num_queries(THREAD_PAGE_QUERIES):
            page = client.get(f"/en/groups/forum/t/{posts[0].thread}/?page={page_number}")
        assert page.status_code == 200
        assert page.content.decode().count('class="post"') == min(per_topic, 50)
    assert f"Post {per_topic - 1} ✓ مرحبا" in page.content.decode()
