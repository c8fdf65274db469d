"""An org admin manages her own organization and can reach nothing of another's."""

import pytest

from accounts.models import Membership, Role
from policies.models import AuditEntry
from policies.services import audit_record
from policies.tenancy import organization_context
from tests.factories import client_for, staff_create

pytestmark = pytest.mark.django_db


def _settings_form(organization, **changes):
    data = {
        "settings-public_name": organization.public_name,
        "settings-neutral_title": "Resources",
        "settings-neutral_title_fr": "Ressources",
        "settings-quick_exit_url": "https://weather.example/",
        "settings-quick_exit_url_fr": "https://meteo.example/",
        "settings-time_zone": "America/Vancouver",
        "settings-languages": ["en", "fr"],
        "settings-outage_banner": "",
        "settings-hotline_numbers": "Line: 1-800-555-0100",
        "settings-emergency_number": "911",
        "settings-shelter_directory_url": "",
        "settings-staff_idle_minutes": "20",
        "settings-staff_session_hours": "8",
        "settings-chat_grace_seconds": "120",
        "settings-chat_silence_warning_minutes": "10",
        "settings-chat_silence_close_minutes": "5",
        "settings-chat_shift_cutoff_minutes": "30",
        "settings-chat_unanswered_minutes": "10",
        "settings-chat_observer_notice": "announced",
        "settings-chat_opening_message_en": "Hello",
        "settings-chat_opening_message_fr": "Bonjour",
        "hours-TOTAL_FORMS": "1",
        "hours-INITIAL_FORMS": "0",
        "hours-0-weekday": "0",
        "hours-0-opens_at": "09:00",
        "hours-0-closes_at": "17:00",
        "closures-TOTAL_FORMS": "0",
        "closures-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_admin_changes_settings_and_it_is_audited(organization, org_admin):
    client = client_for(organization, org_admin)
    response = client.post("/staff/settings/", _settings_form(organization))
    assert response.status_code == 302
    organization.refresh_from_db()
    assert organization.neutral_title == "Resources"
    assert organization.neutral_title_for("fr") == "Ressources"
    assert organization.quick_exit_url_for("fr") == "https://meteo.example/"
    assert organization.chat_observer_notice == "announced"
    assert organization.time_zone == "America/Vancouver"
    with organization_context(organization):
        assert AuditEntry.objects.filter(action="settings.update").count() == 1
        assert organization.staff_idle_minutes == 20


def test_settings_refuse_unknown_time_zone(organization, org_admin):
    client = client_for(organization, org_admin)
    response = client.post(
        "/staff/settings/", _settings_form(organization, **{"settings-time_zone": "Mars/Base"})
    )
    assert response.status_code == 200
    assert "time_zone" in response.context["form"].errors


def test_non_admin_cannot_reach_admin_pages(organization, worker):
    client = client_for(organization, worker)
    for path in ("/staff/settings/", "/staff/team/", "/staff/audit/"):
        assert client.get(path).status_code == 404


def test_admin_of_other_organization_sees_nothing_here(
    organization, other_organization, other_admin
):
    worker = staff_create(organization, [Role.SUPPORT_WORKER])
    with organization_context(organization):
        membership = Membership.objects.get(user=worker)
    # Her session belongs to her own host; here she is nobody.
    client = client_for(organization, other_admin)
    for path in (
        "/staff/",
        "/staff/settings/",
        "/staff/team/",
        "/staff/audit/",
        f"/staff/team/{membership.pk}/",
    ):
        assert client.get(path).status_code == 404


def test_ids_of_another_organization_are_not_found(
    organization, other_organization, org_admin, other_admin
):
    other_worker = staff_create(other_organization, [Role.SUPPORT_WORKER])
    with organization_context(other_organization):
        other_membership = Membership.objects.get(user=other_worker)
        from accounts.services import invitation_create

        other_invitation, _token = invitation_create(
            organization=other_organization, created_by=other_admin, roles=[Role.SUPERVISOR]
        )
    client = client_for(organization, org_admin)
    assert client.get(f"/staff/team/{other_membership.pk}/").status_code == 404
    response = client.post(
        f"/staff/team/{other_membership.pk}/", {"roles": ["org_admin"], "is_active": "on"}
    )
    assert response.status_code == 404
    assert client.post(f"/staff/team/invitations/{other_invitation.pk}/revoke/").status_code == 404
    with organization_context(other_organization):
        other_membership.refresh_from_db()
        other_invitation.refresh_from_db()
    assert other_membership.roles == [Role.SUPPORT_WORKER]
    assert other_invitation.revoked_at is None


def test_audit_log_shows_only_own_organization(
    organization, other_organization, org_admin, other_admin
):
    with organization_context(other_organization):
        audit_record(organization=other_organization, actor=other_admin, action="secret.other")
    with organization_context(organization):
        audit_record(organization=organization, actor=org_admin, action="visible.mine")
    content = client_for(organization, org_admin).get("/staff/audit/").content
    assert b"visible.mine" in content
    assert b"secret.other" not in content


def test_settings_form_cannot_move_a_row_to_another_organization(
    organization, other_organization, org_admin
):
    from accounts.models import OpeningHours

    with organization_context(other_organization):
        other_row = OpeningHours.objects.create(
            organization=other_organization, weekday=1, opens_at="08:00", closes_at="09:00"
        )
    data = _settings_form(
        organization,
        **{
            "hours-INITIAL_FORMS": "1",
            "hours-0-id": str(other_row.pk),
        },
    )
    client_for(organization, org_admin).post("/staff/settings/", data)
    with organization_context(other_organization):
        other_row.refresh_from_db()
    assert other_row.organization_id == other_organization.pk
    assert other_row.opens_at.hour == 8


def test_disabling_a_member_locks_her_out(organization, org_admin, worker):
    with organization_context(organization):
        membership = Membership.objects.get(user=worker)
    worker_client = client_for(organization, worker)
    assert worker_client.get("/staff/").status_code == 200
    client_for(organization, org_admin).post(
        f"/staff/team/{membership.pk}/", {"roles": ["support_worker"]}
    )
    assert worker_client.get("/staff/").status_code == 404
