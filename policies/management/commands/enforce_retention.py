from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from policies.retention import enforce_retention


class Command(BaseCommand):
    help = "Delete every kind of data past its organization's retention window."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )

    def handle(self, *args, dry_run=False, **options):
        counts = enforce_retention(dry_run=dry_run)
        verb = _("would remove") if dry_run else _("removed")
        for kind, count in counts.items():
            self.stdout.write(f"{kind}: {verb} {count}")
