"""Staff sign-in, two-factor, and the organization admin's pages."""

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token

from accounts import selectors, services
from accounts.access import staff_required
from accounts.forms import (
    ClosureFormSet,
    ExistingAccountForm,
    InvitationForm,
    MembershipForm,
    NewAccountForm,
    OpeningHoursFormSet,
    OrganizationSettingsForm,
    TokenForm,
)
from accounts.middleware import staff_session_end, staff_session_start
from accounts.models import Role
from accounts.selectors import membership_get


def _may_sign_in_here(request, user):
    if request.organization is None:
        return user.is_operator
    return membership_get(organization=request.organization, user=user) is not None


def _home(request):
    return redirect("operator:home" if request.organization is None else "accounts:home")


@never_cache
def login_view(request):
    form = AuthenticationForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        if not _may_sign_in_here(request, user):
            form.add_error(None, _("Please enter a correct username and password."))
        elif not services.user_has_two_factor(user):
            form.add_error(
                None,
                _(
                    "This account has no second factor yet, so it cannot sign in. "
                    "Ask an admin of your organization for a new invitation."
                ),
            )
        else:
            staff_session_start(request, user)
            return _home(request)
    return render(request, "accounts/login.html", {"form": form})


@require_POST
def logout_view(request):
    staff_session_end(request)
    return redirect("accounts:login")


def _signed_in(view):
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated or not _may_sign_in_here(request, request.user):
            return redirect("accounts:login")
        return view(request, *args, **kwargs)

    return wrapper


@never_cache
@_signed_in
def two_factor_verify(request):
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"].replace(" ", ""))
        if device is not None:
            otp_login(request, device)
            return _home(request)
        form.add_error("token", _("That code did not match."))
    return render(request, "accounts/two_factor_verify.html", {"form": form})


@never_cache
@staff_required()
def staff_home(request):
    return render(request, "accounts/staff_home.html", {"membership": request.membership})


@never_cache
@staff_required()
def backup_codes_new(request):
    if request.method != "POST":
        return render(request, "accounts/backup_codes_confirm.html")
    codes = services.backup_codes_replace(user=request.user)
    return render(request, "accounts/backup_codes.html", {"codes": codes})


@never_cache
@staff_required(Role.ORG_ADMIN)
def organization_settings(request):
    organization = request.organization
    data = request.POST or None
    form = OrganizationSettingsForm(data, instance=organization, prefix="settings")
    hours = OpeningHoursFormSet(
        data, queryset=selectors.opening_hours_list(organization=organization), prefix="hours"
    )
    closures = ClosureFormSet(
        data, queryset=selectors.closure_list(organization=organization), prefix="closures"
    )
    if request.method == "POST" and form.is_valid() and hours.is_valid() and closures.is_valid():
        services.organization_settings_update(
            organization=organization, actor=request.user, form=form
        )
        services.organization_formset_save(
            organization=organization, actor=request.user, formset=hours, action="hours.update"
        )
        services.organization_formset_save(
            organization=organization,
            actor=request.user,
            formset=closures,
            action="closures.update",
        )
        messages.success(request, _("Settings saved."))
        return redirect("accounts:settings")
    return render(
        request,
        "accounts/settings.html",
        {"form": form, "hours": hours, "closures": closures},
    )


@never_cache
@staff_required(Role.ORG_ADMIN)
def staff_list(request):
    organization = request.organization
    form = InvitationForm(request.POST or None)
    new_link = None
    if request.method == "POST" and form.is_valid():
        _invitation, token = services.invitation_create(
            organization=organization,
            created_by=request.user,
            roles=form.cleaned_data["roles"],
            note=form.cleaned_data["note"],
        )
        new_link = request.build_absolute_uri(f"/staff/join/{token}/")
        form = InvitationForm()
    return render(
        request,
        "accounts/staff_list.html",
        {
            "memberships": selectors.membership_list(organization=organization),
            "invitations": selectors.invitation_list(organization=organization)[:50],
            "form": form,
            "new_link": new_link,
        },
    )


@never_cache
@staff_required(Role.ORG_ADMIN)
def membership_edit(request, membership_id):
    membership = selectors.access_membership(
        organization=request.organization, membership_id=membership_id
    )
    form = MembershipForm(
        request.POST or None,
        initial={"roles": membership.roles, "is_active": membership.is_active},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_update(
                organization=request.organization,
                actor=request.user,
                membership=membership,
                roles=form.cleaned_data["roles"],
                is_active=form.cleaned_data["is_active"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("accounts:staff")
    return render(
        request, "accounts/membership_edit.html", {"membership": membership, "form": form}
    )


@never_cache
@require_POST
@staff_required(Role.ORG_ADMIN)
def recovery_code_new(request):
    code = services.recovery_code_replace(organization=request.organization, actor=request.user)
    return render(request, "accounts/backup_codes.html", {"recovery_code": code})


@require_POST
@staff_required(Role.ORG_ADMIN)
def invitation_revoke(request, invitation_id):
    invitation = selectors.access_invitation(
        organization=request.organization, invitation_id=invitation_id
    )
    services.invitation_revoke(
        organization=request.organization, actor=request.user, invitation=invitation
    )
    messages.success(request, _("Invitation withdrawn."))
    return redirect("accounts:staff")


# The account a new staff member is enrolling, for the invitation she opened:
# [invitation id, user id]. The invitation is used only once enrolment is confirmed.
PENDING_ACCOUNT_KEY = "staff_invitation_pending"


def _invitation_invalid(request, error):
    return render(request, "accounts/invitation_invalid.html", {"error": error.message}, status=410)


def _joined(request, user, device, codes=None, recovery_code=None):
    """Sign her in here, second factor verified, and show what is shown only once."""
    staff_session_start(request, user)
    otp_login(request, device)
    if codes is None and recovery_code is None:
        messages.success(request, _("Welcome."))
        return redirect("accounts:home")
    return render(
        request, "accounts/backup_codes.html", {"codes": codes, "recovery_code": recovery_code}
    )


@never_cache
def invitation_accept(request, token):
    """Join the organization's staff: make an account and enrol its second factor, or join
    with an existing account proven by both its factors.
    """
    try:
        invitation = services.invitation_check(organization=request.organization, token=token)
    except services.InvitationError as error:
        return _invitation_invalid(request, error)
    posted = request.POST.get("form") if request.method == "POST" else None
    pending = request.session.get(PENDING_ACCOUNT_KEY)
    if pending and pending[0] == invitation.pk:
        user = services.account_pending_get(user_id=pending[1])
        if user is not None:
            return _enrol(request, token, user, data=request.POST if posted == "enrol" else None)
    new_form = NewAccountForm(request.POST if posted == "new" else None, prefix="new")
    existing_form = ExistingAccountForm(
        request.POST if posted == "existing" else None, prefix="existing"
    )
    if new_form.is_bound and new_form.is_valid():
        try:
            user = services.account_pending_create(
                organization=request.organization,
                name=new_form.cleaned_data["name"],
                password=new_form.cleaned_data["password"],
            )
        except ValidationError as error:
            new_form.add_error("name", error)
        else:
            request.session[PENDING_ACCOUNT_KEY] = [invitation.pk, user.pk]
            return redirect(request.path)
    if existing_form.is_bound and existing_form.is_valid():
        try:
            user, device, recovery_code = services.invitation_accept_existing(
                organization=request.organization, token=token, **existing_form.cleaned_data
            )
        except services.InvitationError as error:
            return _invitation_invalid(request, error)
        except ValidationError as error:
            existing_form.add_error(None, error)
        else:
            return _joined(request, user, device, recovery_code=recovery_code)
    return render(
        request,
        "accounts/invitation_accept.html",
        {"new_form": new_form, "existing_form": existing_form, "invitation": invitation},
    )


def _enrol(request, token, user, data):
    """Show the new account's authenticator key; its first code uses the invitation."""
    form = TokenForm(data)
    if form.is_bound and form.is_valid():
        try:
            device, codes, recovery_code = services.invitation_accept_new(
                organization=request.organization,
                token=token,
                user=user,
                code=form.cleaned_data["token"],
            )
        except services.InvitationError as error:
            return _invitation_invalid(request, error)
        except ValidationError as error:
            form.add_error("token", error)
        else:
            return _joined(request, user, device, codes, recovery_code)
    device = services.totp_device_pending(user=user)
    qr = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    return render(
        request,
        "accounts/two_factor_enroll.html",
        {
            "form": form,
            "qr_svg": qr.to_string(encoding="unicode"),
            "secret": device.secret_base32,
            "username": user.username,
        },
    )
