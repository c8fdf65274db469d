from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _apply_row_level_security(sender, using, plan=None, **kwargs):
    from policies.tenancy import apply_row_level_security

    # ``flush`` also sends post_migrate, without a plan: the tables are unchanged.
    if plan is None:
        return

    apply_row_level_security(using)


class PoliciesConfig(AppConfig):
    name = "policies"
    verbose_name = _("Policies")

    def ready(self):
        from policies import checks  # noqa: F401  (registers the system checks)
        from policies.models import AuditEntry, ConsentRecord
        from policies.retention import RetentionKind, register

        register(
            RetentionKind(
                name="audit_log",
                label=_("Audit log"),
                rows=lambda organization: AuditEntry.objects.filter(organization=organization),
                timestamp_field="created_at",
                default_days=180,
                maximum_days=365,
            )
        )
        register(
            RetentionKind(
                name="consent_records",
                label=_("Consent records"),
                rows=lambda organization: ConsentRecord.objects.filter(organization=organization),
                timestamp_field="accepted_at",
                default_days=90,
                maximum_days=365,
            )
        )
        # Runs once per migrate, after the last app's migrations.
        post_migrate.connect(_apply_row_level_security, dispatch_uid="policies.rls")
