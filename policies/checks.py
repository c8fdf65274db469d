"""System checks for what Django's own deploy checks do not see."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from accounts.models import TenantModel


@register(Tags.security, deploy=True)
def check_content_security_policy(app_configs, **kwargs):
    """Fail when the CSP is missing or lets inline or foreign script run."""
    policy = getattr(settings, "CONTENT_SECURITY_POLICY", None)
    if not policy or not (policy.get("script-src") or policy.get("default-src")):
        return [Error("CONTENT_SECURITY_POLICY is missing a script source.", id="shelterchat.E001")]
    sources = policy.get("script-src") or policy.get("default-src")
    allowed = {"'self'", "'none'"}
    unsafe = [source for source in sources if source not in allowed]
    if unsafe:
        return [
            Error(
                "CONTENT_SECURITY_POLICY script-src allows more than this site: "
                + ", ".join(unsafe),
                hint="Serve every script from /static/; no inline script, eval or CDN.",
                id="shelterchat.E002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_content_keys(app_configs, **kwargs):
    """Fail when production would encrypt content under the demo's published key."""
    if settings.DEMO_CONTENT_KEY in settings.CONTENT_KEYS:
        return [
            Error(
                "CONTENT_KEYS holds the demo key.",
                hint="Set CONTENT_KEYS to id:base64 of 32 random bytes.",
                id="shelterchat.E004",
            )
        ]
    return []


# Tenant rows that the platform operator manages; still under row-level security.
PLATFORM_MANAGED = {"accounts.OrganizationHostname"}


@register(Tags.models)
def check_tenant_models(app_configs, **kwargs):
    """Fail when a model with an organization column does not use the tenant base."""
    from policies.tenancy import tenant_tables

    return [
        Error(
            f"{model._meta.label} has an organization column but does not inherit TenantModel.",
            id="shelterchat.E003",
        )
        for model in tenant_tables()
        if not issubclass(model, TenantModel) and model._meta.label not in PLATFORM_MANAGED
    ]
