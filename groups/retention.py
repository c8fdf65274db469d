"""What enforce_retention deletes of the support forums and group chats, and when.

Four kinds of data, registered from ``GroupsConfig.ready``:

- ``forum_posts``: each post once it is older than its group's window, or
  than the organization's ``forum_posts`` window when that is shorter.
- ``forum_groups_ended``: a time-limited group, with its invites, members
  and remaining posts, once its last day is further behind than its window
  (or the organization's ``forum_groups_ended`` window when shorter). The
  last day ends at midnight in the organization's time zone.
- ``forum_members_ended``: a member who was refused or removed, or whose
  request nobody answered, with her posts and reports, once that state is
  older than the organization's ``forum_members_ended`` window.
- ``group_chat_attendance``: what is left of a group chat's sitting once it
  ended (when it met, how many people were let in), once its end is older
  than the organization's ``group_chat_attendance`` window. Its content went
  at its end (``groups.services.meeting_end``).

A member who leaves is erased at once (``groups.services.group_member_leave``),
so nothing of hers waits for a purge.

``policies.retention`` compares one timestamp per row with the
organization's window. A group has a window of its own, so posts and ended
groups are compared through a clock set back by how much shorter the
group's window is: a row is then past the organization's window exactly
when it is past the shorter of the two. Rows go in that module's batches,
one transaction each; deleting a group or a member deletes what belongs to
it in the same transaction.
"""

import datetime

from django.db.models import Case, DateTimeField, DurationField, ExpressionWrapper, F, Value, When
from django.db.models.functions import Cast, Least

from groups.models import GroupMeeting, GroupMember, Post, SupportGroup
from policies.retention import retention_days, retention_kind_get

CLOCK = "retention_clock"


def _clock_set_back(clock, group_days, organization, kind_name):
    """Return ``clock`` minus (organization's window - group's window), when that is positive."""
    days = retention_days(organization=organization, kind=retention_kind_get(kind_name))
    shortfall = ExpressionWrapper(
        (Value(days) - Least(F(group_days), Value(days))) * Value(datetime.timedelta(days=1)),
        output_field=DurationField(),
    )
    return ExpressionWrapper(clock - shortfall, output_field=DateTimeField())


def post_retention_rows(organization):
    return Post.objects.filter(organization=organization).alias(
        **{
            CLOCK: _clock_set_back(
                F("created_at"), "group__post_retention_days", organization, "forum_posts"
            )
        }
    )


def _day_end(day, tz):
    """Return the midnight that ends ``day`` in the time zone ``tz``."""
    return datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(0), tz)


def ended_group_retention_rows(organization):
    groups = SupportGroup.objects.filter(organization=organization, ends_on__isnull=False)
    ended_at = Case(
        *(
            When(pk=pk, then=Value(_day_end(last_day, organization.tz)))
            for pk, last_day in groups.values_list("pk", "ends_on")
        ),
        # Typed, so that the expression stays a timestamp when no group has ended.
        default=Cast(Value(None), DateTimeField()),
    )
    return groups.alias(
        **{
            CLOCK: _clock_set_back(
                ended_at, "post_retention_days", organization, "forum_groups_ended"
            )
        }
    )


def ended_member_retention_rows(organization):
    State = GroupMember.State
    return GroupMember.objects.filter(
        organization=organization, state__in=[State.PENDING, State.REFUSED, State.REMOVED]
    )


def attendance_retention_rows(organization):
    return GroupMeeting.objects.filter(organization=organization, state=GroupMeeting.State.ENDED)
