import base64
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

from policies.checks import check_content_security_policy
from tests.factories import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/en/", "/fr/", "/staff/login/", "/exit/", "/nothing/"])
def test_every_response_has_csp_and_security_headers(organization, path):
    response = client_for(organization).get(path)
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "http" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_platform_and_unknown_hosts_have_csp(organization):
    from django.test import Client

    for response in (client_for(None).get("/"), Client(HTTP_HOST="unknown.test").get("/")):
        assert "script-src 'self'" in response["Content-Security-Policy"]


def test_pages_have_no_inline_script_or_foreign_asset(organization, org_admin):
    import re

    for client, path in (
        (client_for(organization), "/en/"),
        (client_for(organization, org_admin), "/staff/settings/"),
    ):
        html = client.get(path).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)
        assert not re.search(r"""(src|href)=["']https?://""", html.split("</header>")[0])
        assert " on" + "click=" not in html and "style=" not in html


@pytest.mark.parametrize(
    "policy",
    [
        {},
        {"default-src": ["'self'"], "script-src": ["'self'", "'unsafe-inline'"]},
        {"script-src": ["'self'", "https://cdn.example.com"]},
        {"script-src": ["'self'", "'unsafe-eval'"]},
    ],
)
def test_csp_check_refuses_missing_or_unsafe_policy(policy):
    from django.test import override_settings

    with override_settings(CONTENT_SECURITY_POLICY=policy):
        errors = check_content_security_policy(None)
    assert errors and errors[0].id.startswith("shelterchat.E00")


def test_csp_check_accepts_project_policy():
    assert check_content_security_policy(None) == []


def _manage(*args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={
            **{k: v for k, v in os.environ.items() if k not in ("DEBUG", "HTTPS")},
            "DJANGO_SETTINGS_MODULE": "shelterchat.settings",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_deploy_check_without_warning():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(64),
        PLATFORM_DOMAIN="shelterchat.example",
        CONTENT_KEYS=_random_keyring(),
        OTP_SECRET_KEYS=_random_keyring(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def _random_keyring():
    return "k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


DEMO_KEY_ERRORS = {"CONTENT_KEYS": "shelterchat.E004", "OTP_SECRET_KEYS": "shelterchat.E005"}


@pytest.mark.parametrize(
    ("demo", "real"), [("CONTENT_KEYS", "OTP_SECRET_KEYS"), ("OTP_SECRET_KEYS", "CONTENT_KEYS")]
)
def test_deploy_check_fails_on_a_demo_key(demo, real):
    result = _manage(
        "check", "--deploy", SECRET_KEY=secrets.token_urlsafe(64), **{real: _random_keyring()}
    )
    assert result.returncode != 0
    assert DEMO_KEY_ERRORS[demo] in result.stderr + result.stdout
    assert DEMO_KEY_ERRORS[real] not in result.stderr + result.stdout


def test_deploy_check_fails_on_inline_script(tmp_path):
    module = tmp_path / "unsafe_settings.py"
    module.write_text(
        "from shelterchat.settings import *\n"
        "CONTENT_SECURITY_POLICY = {**CONTENT_SECURITY_POLICY,"
        " 'script-src': [\"'self'\", \"'unsafe-inline'\"]}\n"
    )
    result = _manage(
        "check",
        "--deploy",
        SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_SETTINGS_MODULE="unsafe_settings",
        PYTHONPATH=f"{tmp_path}{os.pathsep}{settings.BASE_DIR}",
    )
    assert result.returncode != 0
    assert "shelterchat.E002" in result.stderr + result.stdout


def test_malformed_host_logs_one_warning_without_its_value(organization):
    import io
    import logging

    from django.test import Client

    handler = next(h for h in logging.getLogger("django").handlers if h.name == "console")
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        response = Client(HTTP_HOST="evil host!<script>").get("/staff/login/")
    finally:
        handler.setStream(previous)
    assert response.status_code == 400
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert " WARNING django.security.DisallowedHost " in lines[0]
    assert "evil" not in lines[0]
