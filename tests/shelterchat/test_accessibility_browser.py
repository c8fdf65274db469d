"""Every survivor page state passes axe-core's WCAG 2.2 A and AA rules, in English and French.

axe-core comes from npm (package.json; ``bin/test`` runs ``npm ci``). It is
given to each page with ``page.evaluate`` of its source, which the DevTools
protocol runs outside the page's Content-Security-Policy: the page itself is
served and run under its real policy (no ``bypass_csp`` context), so
nothing the policy would block on a survivor's phone is let through here.
"""

import datetime
import functools

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import Closure, Organization, Role
from conversations.models import Conversation, Shift
from conversations.services import shift_start
from groups.models import GroupMember
from groups.services import group_invite_create, participant_admit, post_create
from policies.tenancy import organization_context
from tests.asgi_server import ServerProcess
from tests.browser import browser  # noqa: F401  (fixture)
from tests.conversations.conftest import make_chat_ready, optional_question_create
from tests.factories import client_for, organization_create, staff_create
from tests.groups.conftest import (
    agreement_publish,
    arrive,
    group_create,
    live_group_make,
    member_client,
    member_create,
    participant_client,
    session_around,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


@functools.cache
def axe_source():
    path = settings.BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    assert path.exists(), "run npm ci (bin/test does) to install axe-core"
    return path.read_text(encoding="utf-8")


def axe_violations(page):
    """Run axe-core's WCAG 2.2 A/AA rules over the page; return 'rule: element' lines."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    violations = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: "tag", values: tags}})
            .then(result => result.violations.map(v => v.id + ": " + v.nodes
                .map(n => n.target.join(" ")).join(", ")))""",
        WCAG_22_AA,
    )
    return violations


def _session(client):
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture
def site():
    organization = organization_create(
        "axe",
        hostname="axe.localhost",
        neutral_title="Garden club",
        neutral_title_fr="Club de jardinage",
        hotline_numbers="Crisis line: 1-800-555-0100",
        shelter_directory_url="https://shelters.example/",
    )
    make_chat_ready(organization)
    optional_question_create(organization)
    worker = staff_create(organization, [Role.SUPPORT_WORKER, Role.MODERATOR], username="ana")
    with organization_context(organization):
        shift_start(
            organization=organization,
            worker=worker,
            ends_at=timezone.now() + datetime.timedelta(hours=4),
        )
    agreement_publish(organization, body_en="Be kind.", body_fr="Soyez bienveillantes.")
    forum = group_create(organization)
    member = member_create(organization, forum, display_name="Kind Fern")
    other = member_create(organization, forum, display_name="Brave Lark")
    pending = member_create(organization, forum, state=GroupMember.State.PENDING)
    with organization_context(organization):
        _invite, token = group_invite_create(
            organization=organization, actor=worker, group=forum, valid_days=3, max_uses=5
        )
        topic = post_create(
            organization=organization,
            group=forum,
            member=other,
            title="Hello",
            body="Glad to be here.",
        )
    live = live_group_make(organization)
    session_around(organization, live)
    waiting = arrive(organization, live, "Night Owl")
    admitted = arrive(organization, live, "Quiet Wren")
    with organization_context(organization):
        participant_admit(organization=organization, actor=worker, participant=admitted)
    server = ServerProcess().start()
    yield {
        "organization": organization,
        "base": f"http://axe.localhost:{server.port}",
        "worker": _session(client_for(organization, worker)),
        "member": _session(member_client(organization, member)),
        "pending": _session(member_client(organization, pending)),
        "waiting": _session(participant_client(organization, waiting)),
        "admitted": _session(participant_client(organization, admitted)),
        "token": token,
        "topic": topic,
        "live": live,
    }
    server.stop()


def _context(browser, base, session=None):  # noqa: F811
    context = browser.new_context(**PHONE)
    if session:
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}])
    return context, context.new_page()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_survivor_page_state_passes_axe(site, browser, language):  # noqa: F811
    organization, base = site["organization"], site["base"]
    root = f"{base}/{language}"
    found = {}

    def check(page, state):
        violations = axe_violations(page)
        if violations:
            found[state] = violations

    context, page = _context(browser, base)
    page.goto(f"{root}/")
    check(page, "home open")
    with organization_context(organization):
        Shift.objects.update(left_at=timezone.now())
    page.goto(f"{root}/")
    check(page, "home unstaffed")
    with organization_context(organization):
        Shift.objects.update(left_at=None)
        closure = Closure.objects.create(
            organization=organization,
            starts_on=timezone.localdate(timezone=organization.tz),
            ends_on=timezone.localdate(timezone=organization.tz),
            note="Closed for the holiday.",
        )
    page.goto(f"{root}/")
    check(page, "home closed")
    page.goto(f"{root}/connect/")
    check(page, "chat closed")
    with organization_context(organization):
        closure.delete()
    Organization.objects.filter(pk=organization.pk).update(outage_banner="Chat is down.")
    page.goto(f"{root}/")
    check(page, "home outage")
    Organization.objects.filter(pk=organization.pk).update(outage_banner="")

    worker_context, console = _context(browser, base, site["worker"])
    console.goto(f"{base}/staff/chat/")
    page.goto(f"{root}/connect/")
    check(page, "notice")
    page.locator("form[action$='/connect/'] button").click()
    page.locator("#questions").wait_for()
    check(page, "questions")
    page.locator("#questions button[type=submit]").click()
    page.locator("#safety-check").wait_for()
    page.locator("input[name=safety][value=worried]").check()
    check(page, "safety check")
    page.locator("#start-chat").click()
    page.locator("#waiting-help").wait_for()
    check(page, "queue")
    console.locator("#queue button.accept").click()
    page.locator(".bubble.from-worker").first.wait_for()
    page.locator("#text").fill("Hello")
    page.locator("#compose button[type=submit]").click()
    page.locator(".bubble.from-survivor:not(.pending)").wait_for()
    # A message waiting for its acknowledgement looks as it does on a slow line.
    page.evaluate(
        """() => {
            const pending = document.querySelector(".bubble.from-survivor").cloneNode(true);
            pending.classList.add("pending");
            document.getElementById("messages").appendChild(pending);
        }"""
    )
    check(page, "chat")
    with organization_context(organization):
        Conversation.objects.update(
            survivor_seen_at=timezone.now() - datetime.timedelta(minutes=11)
        )
    page.locator("#silence-warning").wait_for(timeout=15000)
    check(page, "silence warning")
    console.locator(".pane button.end").click()
    page.wait_for_url(f"{root}/connect/ended/?reason=worker_ended")
    check(page, "ended")
    worker_context.close()
    context.close()

    context, page = _context(browser, base)
    page.goto(f"{root}/groups/join/{site['token']}/")
    check(page, "forum join")
    page.goto(f"{root}/groups/")
    check(page, "forum sign-in")
    context.close()
    context, page = _context(browser, base, site["pending"])
    page.goto(f"{root}/groups/")
    check(page, "forum waiting")
    context.close()
    context, page = _context(browser, base, site["member"])
    page.goto(f"{root}/groups/forum/")
    check(page, "forum home")
    page.goto(f"{root}/groups/forum/t/{site['topic'].thread}/")
    check(page, "forum thread")
    page.goto(f"{root}/groups/forum/p/{site['topic'].pk}/report/")
    check(page, "forum report")
    context.close()

    live = site["live"].link_id
    context, page = _context(browser, base)
    page.goto(f"{root}/groups/live/{live}/")
    check(page, "group chat arrival")
    page.goto(f"{root}/groups/live/{live}/left/")
    check(page, "group chat ended")
    context.close()
    context, page = _context(browser, base, site["waiting"])
    page.goto(f"{root}/groups/live/{live}/room/")
    page.locator("#lobby").wait_for()
    check(page, "group chat waiting")
    context.close()
    context, page = _context(browser, base, site["admitted"])
    page.goto(f"{root}/groups/live/{live}/room/")
    page.locator("#room").wait_for()
    check(page, "group chat room")
    context.close()

    assert found == {}
