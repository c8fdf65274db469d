"""A logging filter that keeps client addresses and user agents out of every log line.

Requests are already stripped of both (policies.identity); this is the second
lock, for messages that quote an address from elsewhere (a server library's
own messages, an exception text).
"""

import logging
import re

_IPV4 = r"\b(?:\d{1,3}\.){3}\d{1,3}\b"
_IPV6 = r"\b(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{0,4}\b"
ADDRESS_PATTERN = re.compile(f"{_IPV4}|{_IPV6}")


def redact(text):
    return ADDRESS_PATTERN.sub("[address removed]", text)


class ClientIdentityFilter(logging.Filter):
    """Remove the request object and any address from a record before it is written."""

    def filter(self, record):
        # Handlers and formatters can reach request.META through this attribute.
        if hasattr(record, "request"):
            record.request = None
        record.msg = redact(record.getMessage())
        record.args = None
        return True


class DisallowedHostFilter(logging.Filter):
    """Turn Django's report of a malformed ``Host`` into one plain warning.

    Django logs it at ERROR with a traceback and the header's value: anyone can
    send one, it says nothing about the platform, and the value is the sender's.
    """

    def filter(self, record):
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.msg = "Refused a request with a malformed or unknown Host header."
        record.args = None
        record.exc_info = record.exc_text = record.stack_info = None
        return True
