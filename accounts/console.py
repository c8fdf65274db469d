"""The platform operator's console, on the platform host only.

It manages organizations, their hostnames and their first admin, and nothing
else: no survivor content, conversation, post or member is reachable here.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import services
from accounts.access import operator_required
from accounts.forms import HostnameForm, OrganizationCreateForm
from accounts.models import Organization
from policies.tenancy import organization_context


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
    form = HostnameForm(request.POST or None)
    new_link = None
    if request.method == "POST" and request.POST.get("action") == "hostname" and form.is_valid():
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
    if request.method == "POST" and request.POST.get("action") == "invite_admin":
        _invitation, token = services.first_admin_invite(
            actor=request.user, organization=organization
        )
        with organization_context(organization):
            hostname = organization.hostnames.order_by("pk").first()
        if hostname is not None:
            new_link = f"{request.scheme}://{hostname}{_port(request)}/staff/join/{token}/"
    with organization_context(organization):
        hostnames = list(organization.hostnames.all())
    return render(
        request,
        "operator/organization.html",
        {"managed": organization, "hostnames": hostnames, "form": form, "new_link": new_link},
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
