"""Reads of the support forums, each scoped to one organization and, within it, one group.

``access_*`` selectors answer 404 alike for "absent" and "someone else's".
Post text is decrypted here, and only for the posts of the page being shown.
A member's view is given by ``member``; with ``member=None`` the reader is a
moderator, who sees every post of the group whatever its status.
"""

import dataclasses
import datetime
import uuid

from django.core.paginator import Paginator
from django.db.models import Count, Max, Prefetch, Q
from django.db.models.functions import Lower
from django.http import Http404

from groups.models import GroupInvite, GroupMember, Post, PostReport, SupportGroup
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
