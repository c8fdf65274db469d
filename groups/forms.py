from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from groups.models import GroupSession, PostReport, SupportGroup
from groups.selectors import display_name_taken
from groups.services import GROUP_FIELDS, LIVE_GROUP_FIELDS, SESSION_FIELDS, display_name_normalize
from policies.models import ConsentDocument
from policies.pseudonyms import MAX_LENGTH, validate_display_name

TITLE_MAX_LENGTH = 150
BODY_MAX_LENGTH = 10000
PASSPHRASE_MIN_LENGTH = 10


class SupportGroupForm(forms.ModelForm):
    class Meta:
        model = SupportGroup
        fields = GROUP_FIELDS
        widgets = {
            "ends_on": forms.DateInput(attrs={"type": "date"}),
            "moderation": forms.RadioSelect,
            "purpose": forms.Textarea(attrs={"rows": 4}),
            "facilitation": forms.Textarea(attrs={"rows": 4}),
        }


class LiveGroupForm(forms.ModelForm):
    class Meta:
        model = SupportGroup
        fields = LIVE_GROUP_FIELDS
        widgets = {
            "ends_on": forms.DateInput(attrs={"type": "date"}),
            "purpose": forms.Textarea(attrs={"rows": 4}),
            "facilitation": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "ends_on": _(
                "For a time-limited group, which only its members and people invited to a "
                "session can join. Leave empty for a drop-in group, open to anyone with its link."
            ),
        }


class GroupSessionForm(forms.ModelForm):
    class Meta:
        model = GroupSession
        fields = SESSION_FIELDS
        widgets = {
            "first_day": forms.DateInput(attrs={"type": "date"}),
            "starts_at": forms.TimeInput(attrs={"type": "time"}),
            "ends_at": forms.TimeInput(attrs={"type": "time"}),
        }
        help_texts = {
            "first_day": _(
                "In the organization's time zone. A weekly session repeats on this weekday."
            ),
            "ends_at": _("Earlier than the start: the session ends the next day."),
        }

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("starts_at") and cleaned.get("starts_at") == cleaned.get("ends_at"):
            self.add_error("ends_at", _("A session cannot end when it starts."))
        return cleaned


class SessionInviteForm(forms.Form):
    max_uses = forms.IntegerField(
        label=_("How many people may use it"), min_value=1, max_value=50, initial=1
    )
    language = forms.ChoiceField(label=_("Language of the page it opens"))

    def __init__(self, *args, languages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = languages


class AgreementForm(forms.ModelForm):
    """A new version of the group agreement; the model refuses a chat notice's text."""

    class Meta:
        model = ConsentDocument
        fields = ["body_en", "body_fr"]
        labels = {"body_en": _("Agreement in English"), "body_fr": _("Agreement in French")}

    def __init__(self, *args, organization, **kwargs):
        kwargs["instance"] = ConsentDocument(
            organization=organization, kind=ConsentDocument.Kind.GROUP_AGREEMENT
        )
        super().__init__(*args, **kwargs)


class InviteForm(forms.Form):
    valid_days = forms.IntegerField(
        label=_("Valid for (days)"), min_value=1, max_value=30, initial=7
    )
    max_uses = forms.IntegerField(
        label=_("How many people may use it"), min_value=1, max_value=50, initial=1
    )
    language = forms.ChoiceField(label=_("Language of the page it opens"))

    def __init__(self, *args, languages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = languages


def _validate_passphrase(passphrase):
    password_validation.validate_password(
        passphrase,
        password_validators=password_validation.get_password_validators(
            [
                {
                    "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
                    "OPTIONS": {"min_length": PASSPHRASE_MIN_LENGTH},
                },
                {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
                {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
            ]
        ),
    )


ACCEPT_REQUIRED = _("Please read the group agreement, then tick the box to accept it.")


class JoinForm(forms.Form):
    accept = forms.BooleanField(
        label=_("I have read the group agreement and I accept it."),
        error_messages={"required": ACCEPT_REQUIRED},
    )
    display_name = forms.CharField(
        label=_("Your name in the group"),
        max_length=MAX_LENGTH,
        help_text=_("Not your real name: others will know you only by this name."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "dir": "auto"}),
    )
    passphrase = forms.CharField(
        label=_("Passphrase"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    passphrase_again = forms.CharField(
        label=_("The same passphrase again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    agreement_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["passphrase"].help_text = _(
            "At least %(count)d characters: a few words you will remember and no one could guess."
        ) % {"count": PASSPHRASE_MIN_LENGTH}

    def clean_display_name(self):
        name = display_name_normalize(self.cleaned_data["display_name"])
        validate_display_name(name)
        if display_name_taken(organization=self.organization, display_name=name):
            raise forms.ValidationError(
                _("Someone here already uses this name. Choose another one.")
            )
        return name

    def clean_passphrase(self):
        passphrase = self.cleaned_data["passphrase"]
        _validate_passphrase(passphrase)
        return passphrase

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("passphrase")
            and cleaned.get("passphrase_again") is not None
            and cleaned["passphrase"] != cleaned["passphrase_again"]
        ):
            self.add_error("passphrase_again", _("The two passphrases are not the same."))
        return cleaned


class LiveArrivalForm(forms.Form):
    display_name = forms.CharField(
        label=_("Your name in the group chat"),
        max_length=MAX_LENGTH,
        help_text=_("Not your real name: others will know you only by this name."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "dir": "auto"}),
    )
    accept = forms.BooleanField(
        label=_("I have read the group agreement and I accept it."),
        error_messages={"required": ACCEPT_REQUIRED},
    )
    agreement_version = forms.IntegerField(widget=forms.HiddenInput)


class SignInForm(forms.Form):
    display_name = forms.CharField(
        label=_("Your name in the group"),
        max_length=MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off", "dir": "auto"}),
    )
    passphrase = forms.CharField(
        label=_("Passphrase"), widget=forms.PasswordInput(attrs={"autocomplete": "off"})
    )


class AgreementAcceptForm(forms.Form):
    accept = forms.BooleanField(
        label=_("I have read the group agreement and I accept it."),
        error_messages={"required": ACCEPT_REQUIRED},
    )


class TopicForm(forms.Form):
    title = forms.CharField(
        label=_("Title"),
        max_length=TITLE_MAX_LENGTH,
        widget=forms.TextInput(attrs={"dir": "auto", "autocomplete": "off"}),
    )
    body = forms.CharField(
        label=_("Message"),
        max_length=BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"dir": "auto", "rows": 8}),
    )


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"),
        max_length=BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"dir": "auto", "rows": 5}),
    )


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("What is wrong with this post?"),
        choices=PostReport.Reason.choices,
        widget=forms.RadioSelect,
    )
