"""enforce_retention deletes exactly the forum rows past their window, and nothing else."""

import datetime

import pytest
from django.utils import timezone

from groups.models import GroupInvite, GroupMember, Post, PostReport, SupportGroup
from groups.services import group_invite_create, post_create
from policies.retention import enforce_retention
from policies.services import retention_policy_set
from policies.tenancy import organization_context
from tests.groups.conftest import agreement_publish, group_create, member_create

pytestmark = pytest.mark.django_db

State = GroupMember.State


def _aged_posts(organization, group, member, ages_in_days):
    with organization_context(organization):
        for age in ages_in_days:
            post = post_create(
                organization=organization,
                group=group,
                member=member,
                title=f"{group.name}.{age}",
                body="words",
            )
            Post.objects.filter(pk=post.pk).update(
                created_at=timezone.now() - datetime.timedelta(days=age, minutes=1)
            )


def _remaining(organization):
    """Return the titles (group.age) of the organization's posts that are left."""
    from groups.selectors import posts_reveal

    with organization_context(organization):
        posts = Post.objects.filter(organization=organization)
        return {post.title for post in posts_reveal(organization=organization, posts=posts)}


def test_posts_go_after_their_groups_window(organization, other_organization, member, group):
    short = group_create(organization, name="short", post_retention_days=30)
    writer = member_create(organization, short)
    _aged_posts(organization, short, writer, [1, 29, 31, 400])
    _aged_posts(organization, group, member, [31, 89, 91])  # 90 days
    agreement_publish(other_organization)
    theirs = group_create(other_organization, name="theirs", post_retention_days=30)
    _aged_posts(other_organization, theirs, member_create(other_organization, theirs), [1, 31])

    counts = enforce_retention(batch_size=2)

    assert counts["forum_posts"] == 2 + 1 + 1
    assert _remaining(organization) == {
        "short.1",
        "short.29",
        "Tuesday circle.31",
        "Tuesday circle.89",
    }
    assert _remaining(other_organization) == {"theirs.1"}
    # Nothing else went with them.
    with organization_context(organization):
        assert GroupMember.objects.count() == 2
        assert SupportGroup.objects.count() == 2


def test_the_organizations_window_caps_every_group(organization, org_admin, group, member):
    short = group_create(organization, name="short", post_retention_days=30)
    _aged_posts(organization, short, member_create(organization, short), [29, 31])
    _aged_posts(organization, group, member, [59, 61, 89])
    with organization_context(organization):
        retention_policy_set(
            organization=organization, actor=org_admin, kind_name="forum_posts", days=60
        )
    assert enforce_retention()["forum_posts"] == 3
    assert _remaining(organization) == {"short.29", "Tuesday circle.59"}


def test_removed_refused_and_unanswered_members_go_with_everything_theirs(
    organization, group, member
):
    def aged_member(state, age):
        person = member_create(organization, group, state=state, display_name=f"{state} {age}")
        with organization_context(organization):
            GroupMember.objects.filter(pk=person.pk).update(
                state_changed_at=timezone.now() - datetime.timedelta(days=age, minutes=1)
            )
        return person

    removed = aged_member(State.APPROVED, 0)
    with organization_context(organization):
        post = post_create(
            organization=organization, group=group, member=removed, title="t", body="b"
        )
        PostReport.objects.create(organization=organization, post=post, reporter=member, reason="o")
        mine = post_create(
            organization=organization, group=group, member=member, title="m", body="b"
        )
        PostReport.objects.create(
            organization=organization, post=mine, reporter=removed, reason="o"
        )
        GroupMember.objects.filter(pk=removed.pk).update(
            state=State.REMOVED, state_changed_at=timezone.now() - datetime.timedelta(days=31)
        )
    for state, age in [
        (State.REMOVED, 29),
        (State.REFUSED, 31),
        (State.REFUSED, 29),
        (State.PENDING, 31),
        (State.PENDING, 29),
        (State.APPROVED, 400),
        (State.SUSPENDED, 400),
    ]:
        aged_member(state, age)

    assert enforce_retention()["forum_members_ended"] == 3

    with organization_context(organization):
        assert set(GroupMember.objects.values_list("display_name", flat=True)) == {
            "Quiet River",
            "removed 29",
            "refused 29",
            "pending 29",
            "approved 400",
            "suspended 400",
        }
        assert list(Post.objects.all()) == [mine]
        assert not PostReport.objects.exists()


def test_an_ended_group_goes_after_its_window(organization, org_admin, moderator, agreement):
    today = timezone.localdate(timezone=organization.tz)
    noon = datetime.datetime.combine(today, datetime.time(12), tzinfo=organization.tz)

    def ended(name, days_ago, window=7):
        group = group_create(organization, name=name, post_retention_days=window)
        person = member_create(organization, group)
        _aged_posts(organization, group, person, [0])
        with organization_context(organization):
            group_invite_create(
                organization=organization, actor=moderator, group=group, valid_days=1, max_uses=1
            )
            SupportGroup.objects.filter(pk=group.pk).update(
                ends_on=today - datetime.timedelta(days=days_ago)
            )

    ended("ended 10 days ago", 10)
    # Its last day ended at midnight 7 days ago: its window is over since this midnight.
    ended("ended 8 days ago", 8)
    ended("ended 7 days ago", 7)
    ended("ended 5 days ago", 5)
    group_create(organization, name="drop-in")

    counts = enforce_retention(now=noon)

    assert counts["forum_groups_ended"] == 2
    with organization_context(organization):
        assert set(SupportGroup.objects.values_list("name", flat=True)) == {
            "ended 7 days ago",
            "ended 5 days ago",
            "drop-in",
        }
        assert GroupMember.objects.count() == 2
        assert GroupInvite.objects.count() == 2
        assert Post.objects.count() == 2
        retention_policy_set(
            organization=organization, actor=org_admin, kind_name="forum_groups_ended", days=3
        )
    assert enforce_retention(now=noon)["forum_groups_ended"] == 2
    with organization_context(organization):
        assert list(SupportGroup.objects.values_list("name", flat=True)) == ["drop-in"]
