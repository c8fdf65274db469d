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
def check_demo_keys(app_configs, **kwargs):
    """Fail when production would seal content or staff secrets under a published demo key."""
    demo_keys = [
        ("CONTENT_KEYS", settings.DEMO_CONTENT_KEY, "shelterchat.E004"),
        ("OTP_SECRET_KEYS", settings.DEMO_OTP_SECRET_KEY, "shelterchat.E005"),
    ]
    return [
        Error(
            f"{name} holds the demo key.",
            hint=f"Set {name} to id:base64 of 32 random bytes.",
            id=error_id,
        )
        for name, demo_key, error_id in demo_keys
        if demo_key in getattr(settings, name)
    ]


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
