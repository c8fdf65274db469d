"""Create the demo: two organizations (English and French), staff in every role, the operator.

Each organization also gets a group chat that meets all day, every day, so
that a newcomer can try one at any time. Safe to run again: existing demo
accounts get ten fresh backup codes, and nothing else is made twice.
"""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, OpeningHours, Organization, OrganizationHostname, Role, User
from accounts.services import backup_codes_replace, totp_device_create, user_has_two_factor
from groups.models import GroupSession, SupportGroup
from groups.services import live_group_create
from policies.models import ConsentDocument
from policies.services import consent_document_publish
from policies.tenancy import organization_context, person_context

DEMO_PASSWORD = "demo-only-password"  # noqa: S105  (printed for the local demo)

DEMO_ORGANIZATIONS = [
    {
        "slug": "harbour",
        "name": "Harbour House",
        "neutral_title": "Community resources",
        "languages": ["en", "fr"],
        "hotline_numbers": "Harbour House line: 1-800-555-0100",
        "quick_exit_url": "https://www.wikipedia.org/",
    },
    {
        "slug": "maison",
        "name": "Maison Claire",
        "neutral_title": "Ressources communautaires",
        "languages": ["fr", "en"],
        "hotline_numbers": "Ligne Maison Claire : 1-800-555-0199",
        "quick_exit_url": "https://fr.wikipedia.org/",
    },
]

NOTICE_EN = (
    "What you write here stays between you and our worker, and is erased when the chat ends. "
    "We must break confidentiality if a child is at risk or someone's life is in danger."
)
NOTICE_FR = (
    "Ce que vous écrivez ici reste entre vous et notre intervenante, et est effacé à la fin "
    "du clavardage. Nous devons lever la confidentialité si un enfant est en danger ou si "
    "une vie est menacée."
)


class Command(BaseCommand):
    help = "Create the demo organizations, staff and operator, and print their sign-ins."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="the port the demo serves on")

    def handle(self, *args, port, **options):
        platform = settings.PLATFORM_DOMAIN
        self.stdout.write(f"Platform console: http://{platform}:{port}/")
        self._account("operator", is_operator=True)
        for spec in DEMO_ORGANIZATIONS:
            organization = self._organization(spec, platform)
            base = f"http://{spec['slug']}.{platform}:{port}"
            group = self._group_chat(organization)
            self.stdout.write(f"\n{organization.name}: {base}/")
            self.stdout.write(f"  staff sign-in: {base}/staff/")
            group_url = f"{base}/{spec['languages'][0]}/groups/live/{group.link_id}/"
            self.stdout.write(f"  group chat, open all day: {group_url}")
            for role in Role.values:
                username = f"{spec['slug']}-{role.replace('_', '-')}"
                user = self._account(username)
                with organization_context(organization):
                    Membership.objects.update_or_create(
                        organization=organization,
                        user=user,
                        defaults={"roles": [role], "is_active": True},
                    )

    @transaction.atomic
    def _organization(self, spec, platform):
        organization, created = Organization.objects.get_or_create(
            slug=spec["slug"],
            defaults={
                "name": spec["name"],
                "public_name": spec["name"],
                "neutral_title": spec["neutral_title"],
                "languages": spec["languages"],
                "hotline_numbers": spec["hotline_numbers"],
                "quick_exit_url": spec["quick_exit_url"],
            },
        )
        if not created:
            return organization
        with organization_context(organization):
            OrganizationHostname.objects.create(
                organization=organization, hostname=f"{spec['slug']}.{platform}"
            )
            OpeningHours.objects.bulk_create(
                OpeningHours(
                    organization=organization,
                    weekday=day,
                    opens_at=datetime.time(0, 0),
                    closes_at=datetime.time(0, 0),
                )
                for day in range(7)
            )
            for kind in ConsentDocument.Kind.values:
                consent_document_publish(
                    organization=organization,
                    actor=None,
                    kind=kind,
                    body_en=NOTICE_EN,
                    body_fr=NOTICE_FR,
                )
        return organization

    @transaction.atomic
    def _group_chat(self, organization):
        with organization_context(organization):
            group = SupportGroup.objects.filter(
                organization=organization, kind=SupportGroup.Kind.LIVE
            ).first()
            if group is not None:
                return group
            group = live_group_create(
                organization=organization,
                actor=None,
                name="Evening circle",
                purpose="Talking together with others who have been through it.",
                facilitation="A facilitator lets people in and keeps the group safe.",
            )
            # A sitting from midnight to midnight on every weekday.
            today = timezone.localtime(timezone.now(), organization.tz).date()
            GroupSession.objects.bulk_create(
                GroupSession(
                    organization=organization,
                    group=group,
                    first_day=today + datetime.timedelta(days=offset),
                    starts_at=datetime.time(0, 0),
                    ends_at=datetime.time(0, 0),
                    weekly=True,
                )
                for offset in range(7)
            )
        return group

    def _account(self, username, is_operator=False):
        user, _created = User.objects.get_or_create(
            username=username, defaults={"is_operator": is_operator}
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        with person_context(user):
            if not user_has_two_factor(user):
                totp_device_create(user=user, confirmed=True)
            codes = backup_codes_replace(user=user)
        self.stdout.write(f"  {username} / {DEMO_PASSWORD}  backup codes: {' '.join(codes)}")
        return user
