"""Create a platform operator's account with its second factor, from the server's shell.

The operator has no invitation to accept: whoever runs this command already
holds the server. It prints the authenticator key and the backup codes once.
"""

import getpass

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.services import operator_create


class Command(BaseCommand):
    help = "Create a platform operator with a password and a second factor."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password again: "):
            raise CommandError("The passwords differ.")
        try:
            password_validation.validate_password(password)
            device, codes = operator_create(username=username, password=password)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write("Add this to an authenticator app (it is shown once):")
        self.stdout.write(f"  {device.config_url}")
        self.stdout.write(f"Backup codes, each usable once: {' '.join(codes)}")
