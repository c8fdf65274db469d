"""The whole forum flow in a real headless Chromium, through the pages people use.

A moderator creates an invite link; a survivor opens it, accepts the group
agreement, picks a suggested name and waits; the moderator approves her; she
posts in French and in Arabic; another member reports the Arabic post; the
moderator hides it.
"""

import pytest

from accounts.models import Organization, OrganizationHostname, Role
from groups.models import GroupMember
from policies.tenancy import organization_context
from tests.browser import browser  # noqa: F401  (fixture)
from tests.factories import client_for, staff_create
from tests.groups.conftest import PASSPHRASE, agreement_publish, group_create, member_create

pytestmark = pytest.mark.browser

HOST = "forum.localhost"
FRENCH_TITLE = "Bonjour à toutes"
FRENCH = "C'est ma première fois ici.\nJe suis contente d'être là."
ARABIC = "شكرا لكن على الاستماع"


@pytest.fixture
def site(live_server, neutral_site):
    organization = Organization.objects.create(
        slug="forum",
        name="Forum",
        public_name="Forum",
        languages=["en", "fr"],
        quick_exit_url=neutral_site[0],
    )
    with organization_context(organization):
        OrganizationHostname.objects.create(organization=organization, hostname=HOST)
    moderator = staff_create(organization, [Role.MODERATOR])
    agreement_publish(organization, body_en="No screenshots. What is said here stays here.")
    group = group_create(organization, purpose="Talking about life after leaving.")
    member_create(organization, group, display_name="Kind Fern")
    port = live_server.url.rsplit(":", 1)[1]
    return {
        "organization": organization,
        "moderator": moderator,
        "group": group,
        "base": f"http://{HOST}:{port}",
    }


def _context(browser, site, console):  # noqa: F811
    """Open a browser context that records the page's console messages."""
    context = browser.new_context()
    page = context.new_page()
    page.on("console", lambda message: console.append(message.text))
    return context, page


def _staff_context(browser, site, console):  # noqa: F811
    """Open a context signed in as the moderator, second factor verified."""
    client = client_for(site["organization"], site["moderator"], host=HOST)
    context, page = _context(browser, site, console)
    context.add_cookies(
        [{"name": "sessionid", "value": client.session.session_key, "url": site["base"]}]
    )
    return context, page


@pytest.mark.django_db(transaction=True)
def test_invite_join_approve_post_report_hide(browser, site):  # noqa: F811
    console = []
    base, group = site["base"], site["group"]
    staff_context, staff = _staff_context(browser, site, console)
    survivor_context, survivor = _context(browser, site, console)
    other_context, other = _context(browser, site, console)

    # The moderator creates an invite link.
    staff.goto(f"{base}/staff/groups/{group.pk}/")
    staff.fill("#id_valid_days", "3")
    staff.fill("#id_max_uses", "1")
    staff.select_option("#id_language", "en")
    staff.get_by_role("button", name="Create a link").click()
    link = staff.locator("#new-invite-link").inner_text()
    assert link.startswith(f"{base}/en/groups/join/")

    # The survivor opens it, reads, accepts, picks a suggested name, waits.
    survivor.goto(link)
    assert survivor.title() == "Support"
    assert survivor.get_by_text("Talking about life after leaving.").is_visible()
    assert survivor.get_by_text("No screenshots. What is said here stays here.").is_visible()
    survivor.get_by_label("I have read the group agreement and I accept it.").check()
    survivor.locator(".name-suggestion").first.click()
    name = survivor.input_value("#id_display_name")
    assert name
    survivor.fill("#id_passphrase", PASSPHRASE)
    survivor.fill("#id_passphrase_again", PASSPHRASE)
    survivor.get_by_role("button", name="Ask to join").click()
    survivor.get_by_text("Your request is waiting").wait_for()
    assert "/join/" not in survivor.url

    # The moderator approves her.
    staff.reload()
    staff.locator("tr", has_text=name).get_by_role("button", name="Approve").click()
    staff.wait_for_load_state()
    with organization_context(site["organization"]):
        assert GroupMember.objects.get(display_name=name).state == GroupMember.State.APPROVED

    # She posts in French, then replies in Arabic.
    survivor.reload()
    assert survivor.url.endswith("/en/groups/forum/")
    survivor.get_by_role("link", name="Start a topic").click()
    survivor.fill("#id_title", FRENCH_TITLE)
    survivor.fill("#id_body", FRENCH)
    survivor.get_by_role("button", name="Post").click()
    survivor.get_by_role("heading", name=FRENCH_TITLE).wait_for()
    survivor.fill("#id_body", ARABIC)
    survivor.get_by_role("button", name="Post").click()
    arabic = survivor.locator(".post-body", has_text=ARABIC)
    arabic.wait_for()
    assert arabic.evaluate("element => getComputedStyle(element).direction") == "rtl"
    french = survivor.locator(".post-body", has_text="première fois")
    assert french.evaluate("element => getComputedStyle(element).direction") == "ltr"
    assert french.inner_html().count("<br>") == 1

    # Another member signs in and reports the Arabic post.
    other.goto(f"{base}/en/groups/")
    other.fill("#id_display_name", "Kind Fern")
    other.fill("#id_passphrase", PASSPHRASE)
    other.get_by_role("button", name="Sign in").click()
    other.get_by_role("link", name=FRENCH_TITLE).click()
    post = other.locator("article", has=other.locator(".post-body", has_text=ARABIC))
    post.get_by_role("link", name="Report to a moderator").click()
    other.get_by_label("It is hurtful or harassing").check()
    other.get_by_role("button", name="Send the report").click()
    other.get_by_text("A moderator will look at this post").wait_for()

    # The moderator finds it in the queue and hides it.
    staff.goto(f"{base}/staff/groups/{group.pk}/queue/")
    reported = staff.locator("article", has_text=ARABIC)
    assert "It is hurtful or harassing" in reported.inner_text()
    reported.get_by_role("button", name="Hide").click()
    staff.get_by_text("Nothing to review.").wait_for()

    # Gone for the other member; marked as hidden for its author.
    other.reload()
    assert other.locator(".post-body", has_text="première fois").is_visible()
    assert other.locator(".post-body", has_text=ARABIC).count() == 0
    survivor.reload()
    hidden = survivor.locator("article", has_text=ARABIC)
    assert "A moderator hid this post" in hidden.inner_text()

    assert not [line for line in console if "Content Security Policy" in line]
    for context in (staff_context, survivor_context, other_context):
        context.close()


@pytest.mark.django_db(transaction=True)
def test_a_form_posts_with_its_own_origin(browser, site):  # noqa: F811
    """Under ``Referrer-Policy: no-referrer`` Chromium would post ``Origin: null``,
    which the CSRF check refuses; ``same-origin`` sends the origin to us only."""
    page = browser.new_page()
    page.goto(f"{site['base']}/en/groups/")
    page.fill("#id_display_name", "Kind Fern")
    page.fill("#id_passphrase", PASSPHRASE)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/en/groups/forum/")
    page.close()


@pytest.mark.django_db(transaction=True)
def test_back_after_leaving_the_forum_shows_nothing_of_it(browser, site, neutral_site):  # noqa: F811
    context = browser.new_context()
    page = context.new_page()
    page.goto("about:blank")
    page.goto(f"{site['base']}/en/groups/")
    page.fill("#id_display_name", "Kind Fern")
    page.fill("#id_passphrase", PASSPHRASE)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Start a topic").click()
    page.fill("#id_title", FRENCH_TITLE)
    page.fill("#id_body", FRENCH)
    page.get_by_role("button", name="Post").click()
    page.get_by_role("heading", name=FRENCH_TITLE).wait_for()
    assert page.evaluate("history.length") == 2
    page.get_by_role("button", name="Exit this page").click()
    page.wait_for_url(neutral_site[0])
    page.go_back()
    assert page.url == "about:blank"
    assert context.cookies() == []
    context.close()
