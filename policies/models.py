"""The data every service shares: the audit log, retention windows and consent."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import TenantModel


class AuditEntry(TenantModel):
    """One staff action: who, what, on what, when. Never survivor content.

    Deleted by enforce_retention after the organization's ``audit_log`` window.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(_("action"), max_length=64)
    target_type = models.CharField(_("target"), max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="audit_org_recent")]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")

    def __str__(self):
        return f"{self.action} {self.target_type}:{self.target_id}"


class RetentionPolicy(TenantModel):
    """An organization's window for one kind of data, capped by the platform maximum."""

    kind = models.CharField(_("kind of data"), max_length=64)
    days = models.PositiveIntegerField(_("kept for (days)"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind"], name="retention_unique_kind")
        ]
        verbose_name = _("retention window")

    def __str__(self):
        return f"{self.kind}: {self.days}"


class ConsentDocument(TenantModel):
    """One version of a text a person must accept, in English and French."""

    class Kind(models.TextChoices):
        CHAT_NOTICE = "chat_notice", _("Chat notice of rights and limits of confidentiality")
        GROUP_AGREEMENT = "group_agreement", _("Group agreement")
        QUESTIONS_CONSENT = "questions_consent", _("Consent to optional questions")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    version = models.PositiveIntegerField(_("version"))
    body_en = models.TextField(_("text in English"))
    body_fr = models.TextField(_("text in French"))
    published_at = models.DateTimeField(_("published"), auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "version"], name="consent_unique_version"
            )
        ]
        ordering = ["kind", "-version"]

    def __str__(self):
        return f"{self.get_kind_display()} v{self.version}"

    def clean(self):
        """Refuse a group agreement that is a chat notice's text, and the other way round.

        The chat notice speaks of one worker and of erasure at the end of the
        chat; a group keeps posts for weeks and is read by every member.
        """
        opposite = {
            self.Kind.CHAT_NOTICE: self.Kind.GROUP_AGREEMENT,
            self.Kind.GROUP_AGREEMENT: self.Kind.CHAT_NOTICE,
        }.get(self.kind)
        if opposite is None:
            return
        texts = {text.strip() for text in (self.body_en, self.body_fr) if text and text.strip()}
        others = ConsentDocument.objects.filter(organization_id=self.organization_id, kind=opposite)
        if others.filter(models.Q(body_en__in=texts) | models.Q(body_fr__in=texts)).exists():
            raise ValidationError(
                _(
                    "The group agreement and the chat notice must be different texts: "
                    "each says what is true of its own service."
                ),
                code="same_as_other_kind",
            )

    def body(self, language_code):
        return self.body_fr if (language_code or "").startswith("fr") else self.body_en


class ConsentRecord(TenantModel):
    """That a version of a document was accepted, and when: nothing about who.

    Deleted by enforce_retention after the organization's ``consent_records`` window.
    """

    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-accepted_at"]

    def __str__(self):
        return f"{self.document_id} @ {self.accepted_at:%Y-%m-%d}"


class OrganizationDataKey(TenantModel):
    """The organization's data key for content at rest, wrapped by a key-encryption key.

    The plaintext key never reaches the database: ``wrapped`` is the data key
    encrypted under the key-encryption key ``key_id`` from ``CONTENT_KEYS``,
    so a copy of the database alone decrypts nothing. Kept as long as the
    organization: deleting it would make its stored content unreadable.
    """

    key_id = models.CharField(max_length=64)
    wrapped = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="data_key_one_per_organization")
        ]

    def __str__(self):
        return f"{self.organization_id} under {self.key_id}"
