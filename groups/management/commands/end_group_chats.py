"""End and erase group chat sessions past their scheduled end that no one was there to end.

A room's own sockets end it at its time; this catches a room everyone had
already left, so that its content does not outlive its end by more than the
interval this command runs at (hourly, say, from cron). Each organization it
enters is recorded in the audit log, as with enforce_retention.
"""

from django.core.management.base import BaseCommand

from groups.services import meetings_end_overdue
from policies.tenancy import all_organizations_as_operator


class Command(BaseCommand):
    help = "End and erase every group chat session past its scheduled end."

    def handle(self, *args, **options):
        ended = sum(
            meetings_end_overdue(organization=organization)
            for organization in all_organizations_as_operator(reason="end_group_chats")
        )
        self.stdout.write(f"ended: {ended}")
