from django import forms
from django.contrib.auth import password_validation
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Closure, OpeningHours, Organization, Role


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class InvitationForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(label=_("For"), max_length=100, required=False)


class NewAccountForm(forms.Form):
    """A new staff account: a name within the organization and a password."""

    name = forms.RegexField(
        label=_("Username"),
        regex=r"^[A-Za-z0-9._-]+$",
        max_length=80,
        error_messages={"invalid": _("Use only letters, digits, dots, dashes and underscores.")},
    )
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean_password(self):
        password = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password


class ExistingAccountForm(forms.Form):
    """An account already on another organization's staff here, proven by both factors."""

    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)
    code = forms.CharField(
        label=_("Code from your authenticator app, or a backup code"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )


class MembershipForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple
    )
    is_active = forms.BooleanField(label=_("Active"), required=False)


def _https_by_default(field, **kwargs):
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class OrganizationSettingsForm(forms.ModelForm):
    safe_word = forms.CharField(
        label=_("New safe word"),
        required=False,
        max_length=100,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text=_(
            "A word a survivor can write to tell the worker she is not safe to talk. "
            "It is kept only as a digest; leave empty to keep the current one."
        ),
    )

    languages = forms.MultipleChoiceField(
        label=_("Languages offered"),
        choices=[("en", _("English")), ("fr", _("French"))],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Organization
        formfield_callback = _https_by_default
        fields = [
            "public_name",
            "neutral_title",
            "neutral_title_fr",
            "quick_exit_url",
            "quick_exit_url_fr",
            "time_zone",
            "languages",
            "outage_banner",
            "hotline_numbers",
            "emergency_number",
            "shelter_directory_url",
            "staff_idle_minutes",
            "staff_session_hours",
            "chat_grace_seconds",
            "chat_silence_warning_minutes",
            "chat_silence_close_minutes",
            "chat_shift_cutoff_minutes",
            "chat_unanswered_minutes",
            "chat_observer_notice",
            "chat_opening_message_en",
            "chat_opening_message_fr",
        ]

    def clean_staff_idle_minutes(self):
        value = self.cleaned_data["staff_idle_minutes"]
        if not 1 <= value <= 60:
            raise forms.ValidationError(_("Choose between 1 and 60 minutes."))
        return value

    def clean_chat_unanswered_minutes(self):
        value = self.cleaned_data["chat_unanswered_minutes"]
        if not 1 <= value <= 120:
            raise forms.ValidationError(_("Choose between 1 and 120 minutes."))
        return value

    def clean_staff_session_hours(self):
        value = self.cleaned_data["staff_session_hours"]
        if not 1 <= value <= 14:
            raise forms.ValidationError(_("Choose between 1 and 14 hours."))
        return value


OpeningHoursFormSet = forms.modelformset_factory(
    OpeningHours,
    fields=["weekday", "opens_at", "closes_at"],
    extra=1,
    can_delete=True,
    widgets={
        "opens_at": forms.TimeInput(attrs={"type": "time"}),
        "closes_at": forms.TimeInput(attrs={"type": "time"}),
    },
)

ClosureFormSet = forms.modelformset_factory(
    Closure,
    fields=["starts_on", "ends_on", "note"],
    extra=1,
    can_delete=True,
    widgets={
        "starts_on": forms.DateInput(attrs={"type": "date"}),
        "ends_on": forms.DateInput(attrs={"type": "date"}),
    },
)


class OrganizationCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(label=_("Short name"), max_length=50)
    hostname = forms.CharField(label=_("Hostname"), max_length=253)
    languages = forms.MultipleChoiceField(
        label=_("Languages offered"),
        choices=[("en", _("English")), ("fr", _("French"))],
        widget=forms.CheckboxSelectMultiple,
        initial=["en", "fr"],
    )

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        if Organization.objects.filter(slug=slug).exists():
            raise forms.ValidationError(_("This short name is taken."))
        return slug


class HostnameForm(forms.Form):
    hostname = forms.CharField(label=_("Hostname"), max_length=253)


class RecoveryCodeForm(forms.Form):
    recovery_code = forms.CharField(label=_("The organization's recovery code"), max_length=64)
