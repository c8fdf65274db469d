"""The forms of crisis chat: the survivor's optional answers, and the staff's shift and library."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from conversations.models import CannedMessage, OptionalQuestion


class ShiftForm(forms.Form):
    ends_at = forms.TimeField(
        label=_("My shift ends at"), widget=forms.TimeInput(attrs={"type": "time"})
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization

    def ends_at_datetime(self):
        """Return the next moment at that time of day, in the organization's time zone."""
        now = timezone.localtime(timezone.now(), self.organization.tz)
        ends = now.replace(
            hour=self.cleaned_data["ends_at"].hour,
            minute=self.cleaned_data["ends_at"].minute,
            second=0,
            microsecond=0,
        )
        return ends if ends > now else ends + datetime.timedelta(days=1)


class QuestionAnswersForm(forms.Form):
    """The answers to the optional questions: for each, one of its choices or "skip".

    An answer that is none of its question's choices (a forged form) counts
    nothing, as a skipped one does, and costs her nothing: the other answers
    count and the chat opens.
    """

    SKIP = "skip"

    def __init__(self, *args, questions, language, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            _text, _why, choices = question.localized(language)
            self.fields[self.field_name(question)] = forms.ChoiceField(
                choices=[*enumerate(choices), (self.SKIP, _("Skip this question"))],
                required=False,
            )

    @staticmethod
    def field_name(question):
        return f"q-{question.pk}"

    def answers(self):
        """Return {question id: choice index} of the questions answered with a choice of theirs."""
        self.is_valid()
        answers = {}
        for question in self.questions:
            value = self.cleaned_data.get(self.field_name(question))
            if value not in (None, "", self.SKIP):
                answers[question.pk] = int(value)
        return answers


CannedMessageFormSet = forms.modelformset_factory(
    CannedMessage, fields=["title", "body_en", "body_fr", "position"], extra=1, can_delete=True
)

OptionalQuestionFormSet = forms.modelformset_factory(
    OptionalQuestion,
    fields=[
        "text_en",
        "text_fr",
        "why_en",
        "why_fr",
        "choices_en",
        "choices_fr",
        "position",
        "is_active",
    ],
    extra=1,
    can_delete=True,
)
