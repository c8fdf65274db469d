import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from policies.pseudonyms import suggest_display_names, validate_display_name

REFUSED = {
    "email": ["maria@example.com", "maria (at) gmail", "jo.smith@mail.fr"],
    "phone": ["613 555 0199", "+1 (613) 555-0199", "call 6135550199"],
    "address": [
        "123 Main Street",
        "42 rue Sainte-Catherine",
        "boul. Saint-Laurent 1200",
        "K1A 0B1",
    ],
    "url": ["www.mysite.org", "https://x.co", "find me at maria.com"],
    "length": ["a", "x" * 31],
}

ACCEPTED = [
    "Quiet River",
    "Étoile calme",
    "نور",
    "小雨",
    "ᓀᐦᐃᔭᐍᐏᐣ friend",
    "Mom of 3",
    "Sparrow 2024",
]


@pytest.mark.parametrize(
    ("code", "name"), [(code, name) for code, names in REFUSED.items() for name in names]
)
def test_refuses_identifying_names(code, name):
    with pytest.raises(ValidationError) as caught:
        validate_display_name(name)
    assert caught.value.code == code


@pytest.mark.parametrize("name", ACCEPTED)
def test_accepts_pseudonyms_in_any_script(name):
    validate_display_name(name)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "This looks like an email address. Choose a name that does not identify you."),
        (
            "fr",
            "Ceci ressemble à une adresse courriel. Choisissez un nom qui ne vous identifie pas.",
        ),
    ],
)
def test_refusal_is_in_the_active_language(language, expected):
    with translation.override(language):
        try:
            validate_display_name("someone@example.com")
        except ValidationError as error:
            messages = error.messages
    assert messages == [expected]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_suggestions_pass_the_validator(language):
    names = suggest_display_names(language, count=50)
    assert len(names) == 50
    for name in names:
        validate_display_name(name)


def test_french_suggestions_use_french_words():
    assert any(
        word in name
        for name in suggest_display_names("fr", count=30)
        for word in (
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
        )
    )
