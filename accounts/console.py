"""The platform operator's console, on the platform host only.

It manages organizations, their hostnames and their first admin, and nothing
else: no survivor content, conversation, post or member is reachable here.
Once an organization has had an admin, the console makes another only with
the organization's recovery code (docs/security.md).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.access import operator_required
from accounts.forms import HostnameForm, OrganizationCreateForm, RecoveryCodeForm
from accounts.models import Organization
from policies.tenancy import organization_context

ONLY_ITS_ADMINS = gettext_lazy("Only the organization's own admins can invite an admin now.")


def _organization(organization_id):
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        raise Http404
    return organization


@never_cache
@operator_required
def home(request):
    form = OrganizationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organization = services.organization_create(
            actor=request.user,
            slug=form.cleaned_data["slug"],
            name=form.cleaned_data["name"],
            hostname=form.cleaned_data["hostname"],
            languages=form.cleaned_data["languages"],
        )
        return redirect("operator:organization", organization_id=organization.pk)
    return render(
        request,
        "operator/home.html",
        {"organizations": Organization.objects.all(), "form": form},
    )


@never_cache
@operator_required
def organization_detail(request, organization_id):
    organization = _organization(organization_id)
    action = request.POST.get("action") if request.method == "POST" else None
    form = HostnameForm(request.POST if action == "hostname" else None)
    recovery_form = RecoveryCodeForm(request.POST if action == "recover_admin" else None)
    invitation_token = None
    if form.is_bound and form.is_valid():
        try:
            services.hostname_add(
                actor=request.user,
                organization=organization,
                hostname=form.cleaned_data["hostname"],
            )
        except ValidationError as error:
            form.add_error("hostname", error)
        else:
            return redirect("operator:organization", organization_id=organization.pk)
    if action == "invite_admin":
        try:
            _invitation, invitation_token = services.first_admin_invite(
                actor=request.user, organization=organization
            )
        except PermissionDenied:
            messages.error(request, ONLY_ITS_ADMINS)
    if recovery_form.is_bound and recovery_form.is_valid():
        try:
            _invitation, invitation_token = services.recovery_admin_invite(
                actor=request.user,
                organization=organization,
                recovery_code=recovery_form.cleaned_data["recovery_code"],
            )
        except PermissionDenied:
            messages.error(request, ONLY_ITS_ADMINS)
        except ValidationError as error:
            recovery_form.add_error("recovery_code", error)
    with organization_context(organization):
        hostnames = list(organization.hostnames.all())
        has_admin = selectors.organization_has_admin(organization=organization)
        had_admin = selectors.organization_has_admin(organization=organization, ever=True)
    new_link = None
    if invitation_token is not None and hostnames:
        # The hostname it was created with: the one its admins are known to reach.
        hostname = min(hostnames, key=lambda row: row.pk)
        new_link = f"{request.scheme}://{hostname}{_port(request)}/staff/join/{invitation_token}/"
    return render(
        request,
        "operator/organization.html",
        {
            "managed": organization,
            "hostnames": hostnames,
            "form": form,
            "recovery_form": recovery_form,
            "has_admin": has_admin,
            "had_admin": had_admin,
            "new_link": new_link,
        },
    )


def _port(request):
    port = request.get_port()
    return "" if port in ("80", "443") else f":{port}"


@require_POST
@operator_required
def hostname_remove(request, organization_id, hostname_id):
    organization = _organization(organization_id)
    try:
        services.hostname_remove(
            actor=request.user, organization=organization, hostname_id=hostname_id
        )
    except PermissionDenied as error:
        raise Http404 from error
    return redirect("operator:organization", organization_id=organization.pk)


@require_POST
@operator_required
def organization_active(request, organization_id):
    organization = _organization(organization_id)
    is_active = request.POST.get("is_active") == "1"
    services.organization_set_active(
        actor=request.user, organization=organization, is_active=is_active
    )
    messages.success(
        request, _("Organization activated.") if is_active else _("Organization suspended.")
    )
    return redirect("operator:organization", organization_id=organization.pk)
