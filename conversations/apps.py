from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConversationsConfig(AppConfig):
    name = "conversations"
    verbose_name = _("Crisis chat")

    def ready(self):
        from conversations.models import (
            Case,
            Conversation,
            QuestionAnswerCount,
            Shift,
            VisitorBlock,
        )
        from policies.retention import RetentionKind, register

        register(
            RetentionKind(
                name="conversation_metadata",
                label=_("Crisis chat metadata (times, outcome, worker; never content)"),
                rows=lambda organization: Conversation.objects.filter(
                    organization=organization, state=Conversation.State.ENDED
                ),
                timestamp_field="ended_at",
                default_days=90,
                maximum_days=365,
            )
        )
        register(
            RetentionKind(
                name="cases",
                label=_("Case references of ongoing survivors (since last used)"),
                rows=lambda organization: Case.objects.filter(organization=organization),
                timestamp_field="last_used_at",
                default_days=180,
                maximum_days=730,
            )
        )
        register(
            RetentionKind(
                name="chat_shifts",
                label=_("Staff shifts"),
                rows=lambda organization: Shift.objects.filter(organization=organization),
                timestamp_field="ends_at",
                default_days=90,
                maximum_days=365,
            )
        )
        register(
            RetentionKind(
                name="question_answer_counts",
                label=_("Counts of answers to optional questions"),
                rows=lambda organization: QuestionAnswerCount.objects.filter(
                    organization=organization
                ),
                timestamp_field="month",
                default_days=730,
                maximum_days=1095,
            )
        )
        register(
            RetentionKind(
                name="visitor_blocks",
                label=_("Expired visitor blocks"),
                rows=lambda organization: VisitorBlock.objects.filter(organization=organization),
                timestamp_field="blocked_until",
                default_days=1,
                maximum_days=30,
            )
        )
