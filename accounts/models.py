"""Organizations (the tenants), their hostnames and settings, and staff.

Survivors have no account here: crisis chat is anonymous, and forum members
are pseudonymous identities kept in the ``groups`` app.
"""

import base64
import datetime
import re
import secrets
import time
import zoneinfo
from urllib.parse import quote, urlencode

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from policies.crypto import seal, unseal
from policies.tenancy import person_context

# A phone number inside a line of text: digits, (area codes) and single separators.
PHONE_NUMBER = re.compile(r"\+?(?:\(\d+\)|\d)(?:[ .-]?(?:\(\d+\)|\d))*")


def phone_parts(line):
    """Split a line around its phone number, so the number can be a tap-to-call link.

    Return (before, number, ``tel:`` address, after); a line without a number
    comes back whole in ``before`` with an empty address.
    """
    match = next(
        (m for m in PHONE_NUMBER.finditer(line) if len(re.sub(r"\D", "", m.group())) >= 3), None
    )
    if match is None:
        return line, "", "", ""
    number = match.group()
    digits = ("+" if number.startswith("+") else "") + re.sub(r"\D", "", number)
    return line[: match.start()], number, f"tel:{digits}", line[match.end() :]


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone."))


class ObserverNotice(models.TextChoices):
    """What a survivor is told about supervisors who may read a chat without writing."""

    STANDING = "standing", _("Survivors see a standing line that a supervisor may read along")
    ANNOUNCED = "announced", _("The standing line, and a notice in the chat when one does")


class Organization(models.Model):
    slug = models.SlugField(_("short name"), unique=True, max_length=50)
    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    public_name = models.CharField(
        _("public name"),
        max_length=200,
        help_text=_("Shown to staff and on pages that are not seen by survivors."),
    )
    neutral_title = models.CharField(
        _("neutral page title (English)"),
        max_length=80,
        default="Support",
        help_text=_("The browser tab title of every survivor page: choose something unremarkable."),
    )
    neutral_title_fr = models.CharField(
        _("neutral page title (French)"),
        max_length=80,
        blank=True,
        help_text=_("Leave empty to use the English title on French pages too."),
    )
    quick_exit_url = models.URLField(
        _("quick-exit destination (English)"),
        default="https://en.wikipedia.org/",
        help_text=_("The neutral site a survivor lands on when she leaves quickly."),
    )
    quick_exit_url_fr = models.URLField(
        _("quick-exit destination (French)"),
        blank=True,
        help_text=_("Leave empty to send survivors on French pages to the English destination."),
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="America/Toronto", validators=[validate_time_zone]
    )
    languages = models.JSONField(_("languages offered"), default=list)
    outage_banner = models.TextField(
        _("outage banner"),
        blank=True,
        help_text=_("While set, shown on survivor pages and chat is closed."),
    )
    hotline_numbers = models.TextField(
        _("hotline numbers"), blank=True, help_text=_("One per line, shown when chat is closed.")
    )
    emergency_number = models.CharField(_("emergency number"), max_length=20, default="911")
    shelter_directory_url = models.URLField(_("shelter directory"), blank=True)
    staff_idle_minutes = models.PositiveIntegerField(_("staff idle time-out (minutes)"), default=15)
    staff_session_hours = models.PositiveIntegerField(_("staff session length (hours)"), default=10)
    chat_grace_seconds = models.PositiveIntegerField(
        _("reconnection grace period (seconds)"),
        default=120,
        help_text=_("How long a survivor's dropped chat waits for her to come back."),
    )
    chat_silence_warning_minutes = models.PositiveIntegerField(
        _("silence before a warning (minutes)"), default=10
    )
    chat_silence_close_minutes = models.PositiveIntegerField(
        _("silence after the warning before the chat closes (minutes)"), default=5
    )
    chat_shift_cutoff_minutes = models.PositiveIntegerField(
        _("no new chats in a shift's last (minutes)"), default=30
    )
    chat_unanswered_minutes = models.PositiveIntegerField(
        _("wait before telling a survivor no one has answered (minutes)"),
        default=10,
        validators=[MinValueValidator(1)],
        help_text=_("After this wait in the queue she is told plainly and shown the alternatives."),
    )
    chat_observer_notice = models.CharField(
        _("supervisors reading along"),
        max_length=16,
        choices=ObserverNotice.choices,
        default=ObserverNotice.STANDING,
    )
    chat_opening_message_en = models.TextField(
        _("opening message (English)"),
        blank=True,
        default="Hello, thank you for reaching out. What you write here is confidential, "
        "with the limits described before the chat. You can leave at any time.",
        help_text=_("Sent automatically when a worker accepts a chat."),
    )
    safe_word_digest = models.CharField(
        max_length=64, blank=True, help_text=_("A keyed digest of the safe word; never the word.")
    )
    recovery_code_hash = models.CharField(
        max_length=128,
        blank=True,
        help_text=_(
            "A slow hash of the code the organization's admins keep to let the platform "
            "invite a new admin once they are all gone; never the code."
        ),
    )
    chat_opening_message_fr = models.TextField(
        _("opening message (French)"),
        blank=True,
        default="Bonjour, merci de nous avoir écrit. Ce que vous écrivez ici est confidentiel, "
        "dans les limites décrites avant le clavardage. Vous pouvez partir à tout moment.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self):
        return self.name

    def neutral_title_for(self, language_code):
        french = (language_code or "").startswith("fr")
        return (self.neutral_title_fr if french else "") or self.neutral_title

    def quick_exit_url_for(self, language_code):
        french = (language_code or "").startswith("fr")
        return (self.quick_exit_url_fr if french else "") or self.quick_exit_url

    @property
    def default_language(self):
        """Return the first language offered: survivors land in it unless they prefer another."""
        return self.languages[0] if self.languages else settings.LANGUAGE_CODE

    @property
    def tz(self):
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def hotline_list(self):
        """Return each hotline line as (text before, the number, ``tel:`` address, text after)."""
        return [
            phone_parts(line.strip()) for line in self.hotline_numbers.splitlines() if line.strip()
        ]

    @property
    def emergency_tel(self):
        return phone_parts(self.emergency_number)[2]


class OrganizationHostname(models.Model):
    """A hostname that reaches one organization (a subdomain or its own domain)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="hostnames"
    )
    hostname = models.CharField(_("hostname"), max_length=253, unique=True)

    # Resolving a host must find its row before any organization is current.
    RLS_HOST_LOOKUP_COLUMN = "hostname"

    class Meta:
        ordering = ["hostname"]

    def __str__(self):
        return self.hostname

    def save(self, *args, **kwargs):
        self.hostname = self.hostname.lower().strip().rstrip(".")
        super().save(*args, **kwargs)


class TenantModel(models.Model):
    """Base of every table owned by one organization, child tables included."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=True
    )

    class Meta:
        abstract = True


class OpeningHours(TenantModel):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    opens_at = models.TimeField(_("opens"))
    closes_at = models.TimeField(_("closes"))

    class Meta:
        ordering = ["weekday", "opens_at"]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}-{self.closes_at:%H:%M}"

    def clean(self):
        # Closing at 00:00 means open until midnight.
        if (
            self.opens_at is not None
            and self.closes_at is not None
            and self.closes_at <= self.opens_at
            and self.closes_at != datetime.time(0, 0)
        ):
            raise ValidationError(_("Closing time must be after opening time."))


class Closure(TenantModel):
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["starts_on"]

    def __str__(self):
        return f"{self.starts_on} to {self.ends_on}"

    def clean(self):
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError(_("The last day cannot be before the first day."))


def session_epoch_new():
    return secrets.token_hex(16)


class User(AbstractUser):
    """A staff person or the platform operator; survivors never have one.

    The password hash is not a column of this table, which every staff list
    reads: it lives in ``PasswordHash``, under row-level security, readable
    only as its own person or while checking a password she presents.
    """

    is_operator = models.BooleanField(
        _("platform operator"),
        default=False,
        help_text=_("Manages organizations from the platform host; sees no survivor data."),
    )
    session_epoch = models.CharField(
        max_length=32,
        default=session_epoch_new,
        help_text=_("Changes with the password, ending the sessions signed in before."),
    )

    class Meta:
        verbose_name = _("staff account")

    def save(self, *args, **kwargs):
        """Save the account, and a new password hash to its own row, written as her."""
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "password" in update_fields:
            kwargs["update_fields"] = {*update_fields, "session_epoch"} - {"password"}
        with transaction.atomic():
            super().save(*args, **kwargs)
            encoded = self.__dict__.pop("_password_pending", None)
            if encoded is not None:
                with person_context(self):
                    PasswordHash.objects.update_or_create(user=self, defaults={"encoded": encoded})

    @property
    def password(self):
        """Return the password hash, if the current person may read it (else None)."""
        if "_password_pending" in self.__dict__:
            return self.__dict__["_password_pending"]
        if self.pk is None:
            return None
        return (
            PasswordHash.objects.filter(user_id=self.pk).values_list("encoded", flat=True).first()
        )

    @password.setter
    def password(self, encoded):
        self.__dict__["_password_pending"] = encoded
        self.session_epoch = session_epoch_new()

    def check_password(self, raw_password):
        with person_context(self):
            return super().check_password(raw_password)

    async def acheck_password(self, raw_password):
        # Reading the hash is a query: Django's version would read it in the event loop.
        return await sync_to_async(self.check_password)(raw_password)

    def _get_session_auth_hash(self, secret=None):
        # Django's default hashes the password hash, which requests cannot read;
        # the epoch changes with the password just the same.
        return salted_hmac(
            "accounts.User.session_auth_hash",
            f"{self.pk}:{self.session_epoch}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


class PasswordHash(models.Model):
    """A staff person's password hash, readable only as her (``RLS_PERSON_COLUMN``)."""

    user = models.OneToOneField(User, primary_key=True, on_delete=models.CASCADE, related_name="+")
    encoded = models.CharField(max_length=128)

    RLS_PERSON_COLUMN = "user"

    def __str__(self):
        return f"password of {self.user_id}"


def otp_secret_seal(user_id, secret):
    """Return (key id, sealed secret), bound to its owner: moved to another, it does not open."""
    return seal("OTP_SECRET_KEYS", secret.hex(), f"otp-secret:{user_id}".encode())


def otp_secret_unseal(user_id, key_id, sealed):
    return bytes.fromhex(
        unseal("OTP_SECRET_KEYS", key_id, bytes(sealed), f"otp-secret:{user_id}".encode())
    )


class AuthenticatorDevice(TimestampMixin, ThrottlingMixin, Device):
    """A TOTP authenticator app (RFC 6238, 30-second steps, 6 digits).

    Its secret is stored only sealed under ``OTP_SECRET_KEYS``, bound to its
    owner, so a copy of the database alone does not yield it; the row itself
    is readable only as its owner (``RLS_PERSON_COLUMN``).
    """

    STEP = 30
    DIGITS = 6
    # Codes one step either side of the current one pass, for clock skew.
    TOLERANCE = 1

    key_id = models.CharField(max_length=32)
    sealed_secret = models.BinaryField()
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(
        default=-1, help_text=_("The last time step verified; a code is accepted once.")
    )

    RLS_PERSON_COLUMN = "user"

    def secret_seal(self, secret):
        """Store ``secret`` (bytes) sealed under the current key of ``OTP_SECRET_KEYS``."""
        self.key_id, self.sealed_secret = otp_secret_seal(self.user_id, secret)

    @property
    def secret(self):
        return otp_secret_unseal(self.user_id, self.key_id, self.sealed_secret)

    @property
    def secret_base32(self):
        """The secret as a person types it into an authenticator app."""
        return base64.b32encode(self.secret).decode()

    @property
    def config_url(self):
        """Return the otpauth:// URL that the enrolment QR code carries."""
        issuer = settings.OTP_TOTP_ISSUER.replace(":", "")
        params = {
            "secret": self.secret_base32,
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": self.DIGITS,
            "period": self.STEP,
        }
        label = quote(f"{issuer}:{self.user.get_username()}")
        return f"otpauth://totp/{label}?{urlencode(params, quote_via=quote)}"

    def totp(self):
        totp = TOTP(self.secret, self.STEP, 0, self.DIGITS, self.drift)
        totp.time = time.time()
        return totp

    def verify_token(self, token):
        allowed, _reason = self.verify_is_allowed()
        if not allowed:
            return False
        totp = self.totp()
        try:
            verified = totp.verify(int(token), self.TOLERANCE, self.last_t + 1)
        except ValueError:
            verified = False
        if not verified:
            self.throttle_increment()
            return False
        self.last_t = totp.t()
        self.drift = totp.drift
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True

    def get_throttle_factor(self):
        return 1


class BackupCodeHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's minimum: every code of a person is checked at each attempt."""

    memory_cost = 19456
    parallelism = 1


BACKUP_CODE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


def backup_code_normalize(code):
    return code.replace(" ", "").replace("-", "").lower()


class BackupCodeDevice(ThrottlingMixin, Device):
    """Single-use backup codes, stored only as slow hashes; a code that verifies is spent."""

    CODE_COUNT = 10
    CODE_LENGTH = 12  # 60 bits from a 32-letter alphabet

    code_hashes = models.JSONField(
        default=list, help_text=_("Argon2 hashes of the unused codes; never a code.")
    )

    RLS_PERSON_COLUMN = "user"

    def codes_replace(self):
        """Replace every code with new ones; return them, to be shown once."""
        hasher = BackupCodeHasher()
        codes = [
            "".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(self.CODE_LENGTH))
            for _ in range(self.CODE_COUNT)
        ]
        self.code_hashes = [hasher.encode(code, hasher.salt()) for code in codes]
        return codes

    def verify_token(self, token):
        """Spend the code ``token`` if it is one of the unused ones.

        The caller holds the row locked (``django_otp.match_token`` does), so
        a code cannot be spent twice at once.
        """
        allowed, _reason = self.verify_is_allowed()
        if not allowed:
            return False
        hasher = BackupCodeHasher()
        code = backup_code_normalize(token)
        # Every hash is checked: the time taken does not tell which code matched.
        matched = [encoded for encoded in self.code_hashes if hasher.verify(code, encoded)]
        if not matched:
            self.throttle_increment()
            return False
        self.code_hashes = [encoded for encoded in self.code_hashes if encoded not in matched]
        self.throttle_reset(commit=False)
        self.save()
        return True

    def get_throttle_factor(self):
        return 1


class Role(models.TextChoices):
    ORG_ADMIN = "org_admin", _("Organization admin")
    SUPERVISOR = "supervisor", _("Supervisor")
    SUPPORT_WORKER = "support_worker", _("Support worker")
    MODERATOR = "moderator", _("Moderator / facilitator")
    INTERPRETER = "interpreter", _("Interpreter")


class Membership(TenantModel):
    """A staff person's place in one organization and the roles she holds there."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    roles = models.JSONField(_("roles"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user")
        ]
        ordering = ["user__username"]

    def __str__(self):
        return f"{self.user} @ {self.organization_id}"

    def has_role(self, *roles):
        return any(role in self.roles for role in roles)

    def role_labels(self):
        return [Role(role).label for role in self.roles if role in Role.values]


class Invitation(TenantModel):
    """A single-use, expiring link by which a person joins an organization's staff.

    Only the SHA-256 of the token is stored; the link is shown once, to the
    person who created it.
    """

    class Purpose(models.TextChoices):
        STAFF = "staff", _("Staff, invited by an admin")
        FIRST_ADMIN = "first_admin", _("First admin, invited by the platform")
        RECOVERY_ADMIN = (
            "recovery_admin",
            _("Admin, with the recovery code"),
        )

    token_hash = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.STAFF)
    roles = models.JSONField(_("roles"), default=list)
    note = models.CharField(
        _("for"), max_length=100, blank=True, help_text=_("A reminder of who it is for.")
    )
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.note or str(self.pk)

    @property
    def is_from_platform(self):
        return self.purpose != self.Purpose.STAFF
