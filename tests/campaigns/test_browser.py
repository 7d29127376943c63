"""A demo donation in headless Chromium: the form, the simulated checkout, the
thank-you page, and the progress bar moving. Debian's chromium, no downloads."""

import os
import shutil

import pytest

# No django_db mark: the fixtures order the transactional database (see
# flushable_ledger in conftest) so the ledger trigger is lifted for the flush.
pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def browser_page():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM
    # calls happen between browser steps, never concurrently with them.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(locale="ja-JP")
        yield page
        # The test's ORM calls ran while Playwright's event loop was running,
        # where Django keeps connections apart from the thread's own; close
        # them here, in that same context, or the test database cannot be
        # dropped at the end of the run ("being accessed by other users").
        from django.db import connections

        connections.close_all()
        browser.close()


@pytest.fixture
def demo_campaign(transactional_db, settings):
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import Locale, Page, Site

    from kyosei.models import HomePage
    from tests.factories.campaigns import campaign_page

    settings.STRIPE_SECRET_KEY = ""
    settings.KYOSEI_DEMO = True
    ContentType.objects.clear_cache()
    locale, _ = Locale.objects.get_or_create(language_code="ja")
    root = Page.get_first_root_node() or Page.add_root(
        instance=Page(title="Root", slug="root", locale=locale)
    )
    home = HomePage.objects.filter(locale=locale).first() or root.add_child(
        instance=HomePage(title="ホーム", slug="home")
    )
    Site.objects.all().delete()
    Site.objects.create(hostname="localhost", root_page=home, is_default_site=True)
    return campaign_page(goal_yen=100_000, title="シェルター募金")


def test_demo_monthly_donation_moves_the_progress_bar(
    flushable_ledger, live_server, browser_page, demo_campaign
):
    from donors.models import Gift

    page = browser_page
    page.goto(live_server.url + demo_campaign.url)
    assert page.get_by_test_id("raised").inner_text() == "¥0"

    # The suggested amounts follow the currency and the frequency (donate.js).
    assert page.locator("label[for=id_preset_0]").inner_text().strip() == "¥3,000"
    page.select_option("select[name=currency]", "USD")
    assert page.locator("label[for=id_preset_0]").inner_text().strip() == "US$25.00"
    page.select_option("select[name=currency]", "JPY")
    page.check("input[name=frequency][value=monthly]")
    monthly = page.locator("#donate-presets label").all_inner_texts()
    assert [t.strip() for t in monthly] == ["¥1,000", "¥3,000", "¥5,000"]
    page.check("input[name=preset][value='3000']")
    page.fill("input[name=family_name]", "日向")
    page.fill("input[name=given_name]", "ひかり")
    page.fill("input[name=email]", "hikari@example.jp")
    page.click("button.donate-button")

    page.wait_for_url("**/donate/demo-checkout/**")
    assert "DEMO" in page.inner_text(".demo-label") or "デモ" in page.inner_text(
        ".demo-label"
    )
    page.click("button[value=pay]")

    page.wait_for_url("**/donate/thanks/**")
    state = page.get_by_test_id("donation-state").get_attribute("data-state")
    assert state == "completed"

    page.goto(live_server.url + demo_campaign.url)
    assert page.get_by_test_id("raised").inner_text() == "¥3,000"
    bar = page.locator("[role=progressbar]").get_attribute("aria-valuenow")
    assert bar == "3"
    gift = Gift.objects.get()
    assert (gift.amount, gift.recurring_gift.status) == (3000, "active")
