"""Pseudonymous display names: a validator and a generator.

A display name is how a survivor appears to others in forums and group chats.
It must not identify her or let someone reach her, so the validator refuses
what looks like an email address, a phone number, a street address or a web
address; the generator offers names made of two harmless words.
"""

import re
import secrets
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MIN_LENGTH = 2
MAX_LENGTH = 30

_EMAIL = re.compile(r"[^\s@]+\s*(@|\(at\)|\[at\])\s*[^\s@]+", re.IGNORECASE)
_URL = re.compile(
    r"(https?:|www\.|\b[\w-]+\.(com|ca|org|net|info|io|fr|me|co|uk|us|app|ly)\b)",
    re.IGNORECASE,
)
_STREET_WORDS = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|drive|dr|lane|ln|way|court|ct|crescent|"
    "cres|place|pl|terrace|highway|hwy|route|rue|chemin|ch|boul|rang|impasse|allée|allee|"
    "croissant|promenade|montée|montee|côte|cote|place"
)
_STREET = re.compile(
    rf"(\b\d+[a-z]?\b.*\b({_STREET_WORDS})\b)|(\b({_STREET_WORDS})\b.*\b\d+\b)",
    re.IGNORECASE,
)
_POSTAL_CODE = re.compile(r"\b[a-z]\d[a-z]\s?\d[a-z]\d\b|\b\d{5}(-\d{4})?\b", re.IGNORECASE)


def _digit_count(value):
    return sum(1 for char in value if unicodedata.category(char) == "Nd")


def validate_display_name(value):
    """Raise ValidationError, in the active language, if ``value`` could identify someone."""
    name = value.strip()
    if not MIN_LENGTH <= len(name) <= MAX_LENGTH:
        raise ValidationError(
            _("Choose a name of %(min)d to %(max)d characters.")
            % {"min": MIN_LENGTH, "max": MAX_LENGTH},
            code="length",
        )
    if _EMAIL.search(name):
        raise ValidationError(
            _("This looks like an email address. Choose a name that does not identify you."),
            code="email",
        )
    if _URL.search(name):
        raise ValidationError(
            _("This looks like a web address. Choose a name that does not identify you."),
            code="url",
        )
    if _digit_count(name) >= 7:
        raise ValidationError(
            _("This looks like a phone number. Choose a name that does not identify you."),
            code="phone",
        )
    if _STREET.search(name) or _POSTAL_CODE.search(name):
        raise ValidationError(
            _("This looks like a street address. Choose a name that does not identify you."),
            code="address",
        )


_WORDS = {
    "en": (
        [
            "Quiet",
            "Gentle",
            "Bright",
            "Calm",
            "Brave",
            "Kind",
            "Steady",
            "Warm",
            "Clear",
            "Hopeful",
            "Silver",
            "Golden",
            "Morning",
            "Evening",
            "Spring",
            "Autumn",
        ],
        [
            "River",
            "Willow",
            "Harbour",
            "Meadow",
            "Sparrow",
            "Cedar",
            "Lantern",
            "Heron",
            "Maple",
            "Fern",
            "Brook",
            "Wren",
            "Birch",
            "Comet",
            "Pebble",
            "Tide",
        ],
    ),
    "fr": (
        [
            "Rivière",
            "Perle",
            "Lanterne",
            "Bruyère",
            "Fougère",
            "Mésange",
            "Étoile",
            "Colline",
            "Luciole",
            "Plume",
            "Brise",
            "Aurore",
            "Vague",
            "Lune",
            "Source",
            "Clairière",
        ],
        [
            "calme",
            "douce",
            "claire",
            "brave",
            "sereine",
            "vive",
            "paisible",
            "dorée",
            "légère",
            "fidèle",
            "lumineuse",
            "tranquille",
            "argentée",
            "fière",
            "libre",
            "neuve",
        ],
    ),
}


def suggest_display_names(language="en", count=3):
    """Return ``count`` random two-word names in ``language`` (English or French)."""
    first_words, second_words = _WORDS["fr" if (language or "").startswith("fr") else "en"]
    return [f"{secrets.choice(first_words)} {secrets.choice(second_words)}" for _ in range(count)]
