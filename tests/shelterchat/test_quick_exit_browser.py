"""The quick exit in a real browser: Shift three times, and the survivor is somewhere else."""

import pytest

from accounts.models import Organization, OrganizationHostname
from policies.tenancy import organization_context
from tests.browser import browser  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def survivor_page_url(live_server, neutral_site):
    organization = Organization.objects.create(
        slug="quick",
        name="Quick",
        public_name="Quick",
        neutral_title="Local weather",
        languages=["en", "fr"],
        quick_exit_url=neutral_site[0],
    )
    with organization_context(organization):
        OrganizationHostname.objects.create(organization=organization, hostname="quick.localhost")
    port = live_server.url.rsplit(":", 1)[1]
    return f"http://quick.localhost:{port}/en/"


def _open(browser, url):  # noqa: F811
    context = browser.new_context()
    page = context.new_page()
    page.goto("about:blank")
    page.goto(url)
    return context, page


@pytest.mark.django_db(transaction=True)
def test_shift_three_times_leaves_and_back_does_not_return(
    browser,  # noqa: F811
    survivor_page_url,
    neutral_site,
):
    neutral, visits = neutral_site
    context, page = _open(browser, survivor_page_url)
    assert page.title() == "Local weather"
    assert page.locator("#quick-exit").is_visible()

    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    page.wait_for_url(neutral)
    assert page.title() == "Weather"
    assert visits[0] == "/weather"
    assert context.cookies("http://quick.localhost") == []

    page.go_back()
    assert "quick.localhost" not in page.url
    assert page.url == "about:blank"
    context.close()


@pytest.mark.django_db(transaction=True)
def test_button_by_keyboard_leaves(browser, survivor_page_url, neutral_site):  # noqa: F811
    context, page = _open(browser, survivor_page_url)
    page.locator("#quick-exit").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(neutral_site[0])
    page.go_back()
    assert "quick.localhost" not in page.url
    context.close()


@pytest.mark.django_db(transaction=True)
def test_two_shifts_do_nothing(browser, survivor_page_url, neutral_site):  # noqa: F811
    context, page = _open(browser, survivor_page_url)
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    page.wait_for_timeout(300)
    assert page.url == survivor_page_url
    assert neutral_site[1] == []
    context.close()


def _stays(page, url, visits):
    page.wait_for_timeout(300)
    assert page.url == url
    assert visits == []


@pytest.mark.django_db(transaction=True)
def test_typing_capitals_never_exits(browser, survivor_page_url, neutral_site):  # noqa: F811
    context, page = _open(browser, survivor_page_url)
    page.keyboard.type("Hi Ana, I AM OK. Merci, À BIENTÔT")
    for letter in "HAIOK":
        page.keyboard.press(f"Shift+{letter}")
        page.keyboard.type(" then more ")
    for letter in "ABC":
        page.keyboard.press(f"Shift+{letter}")
    _stays(page, survivor_page_url, neutral_site[1])
    assert page.locator("#quick-exit-count").inner_text() == ""
    context.close()


@pytest.mark.django_db(transaction=True)
def test_holding_shift_never_exits(browser, survivor_page_url, neutral_site):  # noqa: F811
    context, page = _open(browser, survivor_page_url)
    for _ in range(4):
        page.keyboard.down("Shift")
        for _ in range(5):
            page.keyboard.down("Shift")  # the keyboard's auto-repeat
        page.keyboard.up("Shift")
    _stays(page, survivor_page_url, neutral_site[1])
    context.close()


@pytest.mark.django_db(transaction=True)
def test_another_key_starts_the_count_again(browser, survivor_page_url, neutral_site):  # noqa: F811
    context, page = _open(browser, survivor_page_url)
    count = page.locator("#quick-exit-count")
    assert count.get_attribute("aria-live") == "polite"
    page.keyboard.press("Shift")
    assert count.inner_text() == "Shift pressed 1 of 3 times"
    assert count.is_visible()
    page.keyboard.press("Shift")
    assert count.inner_text() == "Shift pressed 2 of 3 times"
    page.keyboard.press("a")
    assert count.inner_text() == ""
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    _stays(page, survivor_page_url, neutral_site[1])
    page.keyboard.press("Shift")
    page.wait_for_url(neutral_site[0])
    context.close()


@pytest.mark.django_db(transaction=True)
def test_the_count_lasts_five_seconds_and_speaks_french(
    browser,  # noqa: F811
    survivor_page_url,
    neutral_site,
):
    french = survivor_page_url.replace("/en/", "/fr/")
    context, page = _open(browser, french)
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    assert page.locator("#quick-exit-count").inner_text() == "Touche Maj : 2 fois sur 3"
    page.wait_for_timeout(5300)
    assert page.locator("#quick-exit-count").inner_text() == ""
    page.keyboard.press("Shift")
    _stays(page, french, neutral_site[1])
    context.close()
