"""Suggested amounts per currency and frequency on the donate form."""

import json
import re

import pytest
from django.core.exceptions import ValidationError

from campaigns.models import (
    DEFAULT_PRESETS,
    DONATION_CURRENCIES,
    CampaignPresetSet,
    DonationIntent,
    parse_preset_amounts,
)
from kyosei.money import Money
from tests.campaigns.test_donate_flow import _donate

pytestmark = pytest.mark.django_db


def test_every_default_is_within_the_checkout_limits():
    for currency in DONATION_CURRENCIES:
        for frequency in ("once", "monthly"):
            raw = ",".join(DEFAULT_PRESETS[currency][frequency])
            assert len(parse_preset_amounts(raw, currency)) >= 3


def test_a_campaign_sets_its_own_amounts_for_one_currency(campaign):
    CampaignPresetSet.objects.create(
        page=campaign, currency="USD", frequency="monthly", amounts="12.50, 20"
    )
    assert campaign.presets("USD", "monthly") == [
        Money.of("12.50", "USD"),
        Money.of("20", "USD"),
    ]
    assert campaign.presets("USD", "once")[0] == Money.of("25", "USD")  # default
    assert campaign.presets("JPY", "once")[0] == Money.yen(3000)


@pytest.mark.parametrize(
    ("currency", "amounts", "message"),
    [
        ("USD", "10, ten", "“ten” is not an amount in USD"),
        ("USD", "1", "smallest online gift"),
        ("JPY", "100.5", "not an amount in JPY"),
        ("VND", "", "at least one amount"),
    ],
)
def test_bad_amounts_are_refused_with_the_reason(campaign, currency, amounts, message):
    preset_set = CampaignPresetSet(
        page=campaign, currency=currency, frequency="once", amounts=amounts
    )
    with pytest.raises(ValidationError) as error:
        preset_set.clean()
    assert message in str(error.value)


def test_page_shows_yen_choices_and_every_currency_for_the_script(client, campaign):
    html = client.get(campaign.url).content.decode()
    assert 'value="3000"' in html and "¥3,000" in html
    assert 'value="5000" checked' in html or "checked" in html
    found = re.search(r'id="donate-preset-table"[^>]*>(.*?)</script>', html, re.S)
    table = json.loads(found.group(1))
    assert set(table) == set(DONATION_CURRENCIES)
    assert table["USD"]["once"][0] == {"value": "25.00", "label": "US$25.00"}
    assert table["VND"]["monthly"][0]["value"] == "100000"
    assert "campaigns/donate.js" in html


def test_a_usd_choice_is_charged_in_cents(client, fake_stripe, campaign):
    response = _donate(client, campaign, preset="50", currency="USD")
    assert response.status_code == 303
    intent = DonationIntent.objects.get()
    assert (intent.amount, intent.currency) == (5000, "USD")
    params = fake_stripe.requests[-1].params
    assert params["line_items[0][price_data][unit_amount]"] == "5000"


def test_a_monthly_vnd_choice_is_zero_decimal(client, fake_stripe, campaign):
    response = _donate(
        client, campaign, preset="200000", currency="VND", frequency="monthly"
    )
    assert response.status_code == 303
    params = fake_stripe.requests[-1].params
    assert params["line_items[0][price_data][unit_amount]"] == "200000"
    assert params["line_items[0][price_data][recurring][interval]"] == "month"


def test_a_yen_choice_with_another_currency_shows_that_currencys_choices(
    client, fake_stripe, campaign
):
    # The donor switched to US$ without the script: ¥5,000's choice is not a
    # US$ amount, so the form asks again, now offering US$ amounts.
    response = _donate(client, campaign, preset="5000", currency="USD")
    assert response.status_code == 400
    html = response.content.decode()
    # The page is Japanese.
    assert "表示された金額から選ぶか、金額を入力してください。" in html
    assert "US$25.00" in html and 'value="25.00"' in html
    assert not DonationIntent.objects.exists()


def test_a_typed_amount_wins_over_a_choice_left_selected(client, fake_stripe, campaign):
    response = _donate(client, campaign, preset="5000", amount="7", currency="USD")
    assert response.status_code == 303
    assert DonationIntent.objects.get().amount == 700


def test_editor_cannot_set_one_currency_twice(client, campaign):
    from wagtail.test.utils.form_data import (
        inline_formset,
        nested_form_data,
        streamfield,
    )

    from kyosei.roles import Role
    from tests.factories.users import staff_user

    client.force_login(staff_user(Role.ADMIN))
    url = f"/admin/pages/{campaign.pk}/edit/"
    assert client.get(url).status_code == 200
    data = dict(
        nested_form_data(
            {
                "title": campaign.title,
                "slug": campaign.slug,
                "goal_yen": "1000000",
                "start_date": str(campaign.start_date),
                "fund": str(campaign.fund_id),
                "body": streamfield([]),
                "summary": "",
                "offer_cover_fees": "on",
                "preset_sets": inline_formset(
                    [
                        {"currency": "USD", "frequency": "once", "amounts": "10, 20"},
                        {"currency": "USD", "frequency": "once", "amounts": "30"},
                    ]
                ),
            }
        )
    )
    response = client.post(url, data)
    assert response.status_code == 200  # the form again, with the error
    assert "amounts are already set above" in response.content.decode()
    assert not CampaignPresetSet.objects.exists()
    data["preset_sets-1-currency"] = "EUR"
    data["action-publish"] = "action-publish"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    assert CampaignPresetSet.objects.count() == 2
