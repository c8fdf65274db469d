import pytest

from tests.factories import client_for, host_of

pytestmark = pytest.mark.django_db


def test_known_host_reaches_its_organization(organization, other_organization):
    response = client_for(organization).get("/en/")
    assert response.status_code == 200
    assert response.context["organization"] == organization


def test_unknown_host_is_a_plain_404(organization):
    from django.test import Client

    response = Client(HTTP_HOST="nobody.test").get("/en/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/plain")
    assert organization.public_name.encode() not in response.content


def test_suspended_organization_is_unknown(organization):
    organization.is_active = False
    organization.save()
    assert client_for(organization).get("/en/").status_code == 404


def test_host_is_matched_without_port_and_case(organization):
    from django.test import Client

    response = Client(HTTP_HOST=host_of(organization).upper() + ":8000").get("/en/")
    assert response.status_code == 200


def test_platform_host_serves_only_the_console(organization):
    client = client_for(None)
    assert client.get("/en/").status_code == 404
    assert client.get("/staff/settings/").status_code == 404
    assert client.get("/exit/").status_code == 404
    assert client.get("/")["Location"].startswith("/account/login/")


def test_organization_host_has_no_console(organization):
    assert client_for(organization).get("/organizations/1/").status_code == 404
