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
