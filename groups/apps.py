from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupsConfig(AppConfig):
    name = "groups"
    verbose_name = _("Support forums and group chats")

    def ready(self):
        from groups import retention
        from policies.retention import RetentionKind, register

        register(
            RetentionKind(
                name="forum_posts",
                label=_("Forum posts (each forum may keep them for less)"),
                rows=retention.post_retention_rows,
                timestamp_field=retention.CLOCK,
                default_days=365,
                maximum_days=365,
            )
        )
        register(
            RetentionKind(
                name="forum_groups_ended",
                label=_("Forums after their last day (each forum may keep them for less)"),
                rows=retention.ended_group_retention_rows,
                timestamp_field=retention.CLOCK,
                default_days=365,
                maximum_days=365,
            )
        )
        register(
            RetentionKind(
                name="forum_members_ended",
                label=_("Forum members refused, removed or never answered"),
                rows=retention.ended_member_retention_rows,
                timestamp_field="state_changed_at",
                default_days=30,
                maximum_days=90,
            )
        )
        register(
            RetentionKind(
                name="group_chat_attendance",
                label=_("When each group chat session met and how many took part"),
                rows=retention.attendance_retention_rows,
                timestamp_field="ended_at",
                default_days=365,
                maximum_days=365,
            )
        )
