"""The demo tells the truth: its texts match what each service does, in each language."""

import io

import pytest
from django.conf import settings
from django.core.management import call_command

from accounts.models import Organization
from policies.models import ConsentDocument
from policies.selectors import consent_document_current
from policies.tenancy import organization_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=io.StringIO())
    return {org.slug: org for org in Organization.objects.all()}


def _current(organization, kind):
    with organization_context(organization):
        return consent_document_current(organization=organization, kind=kind)


def test_each_document_says_what_its_service_does(demo):
    for organization in demo.values():
        notice = _current(organization, ConsentDocument.Kind.CHAT_NOTICE)
        agreement = _current(organization, ConsentDocument.Kind.GROUP_AGREEMENT)
        assert "between you and our worker" not in notice.body_en
        assert "supervisor may read along" in notice.body_en
        assert "superviseure peut lire" in notice.body_fr
        assert notice.body_en != agreement.body_en and notice.body_fr != agreement.body_fr
        # The agreement is true of a forum (posts kept) and of a group chat (erased).
        assert "Forum posts are kept" in agreement.body_en
        assert "erased at the end of each session" in agreement.body_en
        assert "erased when the chat ends" not in agreement.body_en.lower()


def test_maison_opens_in_french_with_french_neutral_pages(demo, client):
    host = f"maison.{settings.PLATFORM_DOMAIN}"
    response = client.get("/", HTTP_HOST=host, HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    assert response.status_code == 302 and response["Location"] == "/fr/"
    page = client.get("/fr/", HTTP_HOST=host).content.decode()
    assert "<title>Ressources communautaires</title>" in page
    english = client.get("/en/", HTTP_HOST=host).content.decode()
    assert "<title>Community resources</title>" in english
    assert client.get("/exit/?lang=fr", HTTP_HOST=host)["Location"] == "https://fr.wikipedia.org/"
    assert client.get("/exit/?lang=en", HTTP_HOST=host)["Location"] == "https://en.wikipedia.org/"
    # Without a language, the organization's first one.
    assert client.get("/exit/", HTTP_HOST=host)["Location"] == "https://fr.wikipedia.org/"
    harbour = demo["harbour"]
    assert harbour.neutral_title_for("fr") == "Ressources communautaires"
