"""Campaign pages, donation intents and the stored Stripe events.

A ``DonationIntent`` is what a donor asked for on our donate form; it never holds
money. Money is recorded only when Stripe says it was paid, by the event
processing service (``campaigns.services.stripe_events``) through
``donors.services.gifts.gift_record``.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail import blocks
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.images.blocks import ImageBlock
from wagtail.models import Orderable, Page

from kyosei.money import Money

#: Currencies a donor may give in; JPY is the default and the books' currency.
DONATION_CURRENCIES = ("JPY", "USD", "EUR", "AUD", "GBP", "VND", "PHP")

#: Suggested amounts in major units where a campaign sets none (every one of them
#: is within the checkout limits; a test checks it).
DEFAULT_PRESETS: dict[str, dict[str, tuple[str, ...]]] = {
    "JPY": {
        "once": ("3000", "5000", "10000", "30000"),
        "monthly": ("1000", "3000", "5000"),
    },
    "USD": {"once": ("25", "50", "100", "250"), "monthly": ("10", "25", "50")},
    "EUR": {"once": ("25", "50", "100", "250"), "monthly": ("10", "25", "50")},
    "AUD": {"once": ("30", "50", "100", "250"), "monthly": ("15", "30", "50")},
    "GBP": {"once": ("20", "50", "100", "200"), "monthly": ("10", "20", "50")},
    "VND": {
        "once": ("200000", "500000", "1000000", "2000000"),
        "monthly": ("100000", "200000", "500000"),
    },
    "PHP": {"once": ("500", "1000", "2500", "5000"), "monthly": ("300", "500", "1000")},
}
FREQUENCY_CHOICES = [("once", _("One-time")), ("monthly", _("Monthly"))]


def parse_preset_amounts(raw: str, currency: str) -> list[Money]:
    """``"10, 25, 12.50"`` in ``currency`` → Money; ``ValueError`` names a bad part."""
    from campaigns.errors import CheckoutError
    from campaigns.services.checkout import donation_amount_check

    out: list[Money] = []
    for part in raw.replace("、", ",").split(","):
        part = part.strip().replace("¥", "").replace("$", "")
        if not part:
            continue
        try:
            money = Money.of(part.replace("_", ""), currency)
        except (ValueError, TypeError, ArithmeticError):
            raise ValueError(
                _("“%(p)s” is not an amount in %(c)s.") % {"p": part, "c": currency}
            ) from None
        try:
            donation_amount_check(money)
        except CheckoutError as exc:
            raise ValueError(f"{money}: {exc}") from None
        out.append(money)
    if not out:
        raise ValueError(_("Give at least one amount."))
    return out


class CampaignPageForm(WagtailAdminPageForm):
    """One set of suggested amounts per currency and frequency."""

    def clean(self):
        cleaned = super().clean()
        formset = self.formsets.get("preset_sets")
        if formset is None or not formset.is_valid():
            return cleaned  # its own errors are shown first
        seen: set[tuple[str, str]] = set()
        for form in formset.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE"):
                continue
            key = (data.get("currency"), data.get("frequency"))
            if key in seen:
                form.add_error(
                    "currency",
                    _("%(c)s %(f)s amounts are already set above.")
                    % {"c": key[0], "f": dict(FREQUENCY_CHOICES).get(key[1], "")},
                )
            seen.add(key)
        return cleaned


class CampaignIndexPage(Page):
    intro = RichTextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    subpage_types = ["campaigns.CampaignPage"]
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("campaign index")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["campaigns"] = (
            CampaignPage.objects.child_of(self)
            .live()
            .specific()
            .order_by("-start_date")
        )
        return context


class CampaignPage(Page):
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    body = StreamField(
        [
            ("paragraph", blocks.RichTextBlock(label=_("Paragraph"))),
            ("image", ImageBlock(label=_("Image"))),
            ("quote", blocks.BlockQuoteBlock(label=_("Quote"))),
        ],
        blank=True,
        verbose_name=_("body"),
    )
    hero_image = models.ForeignKey(
        "wagtailimages.Image",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("hero image"),
    )
    goal_yen = models.PositiveBigIntegerField(
        _("goal (yen)"), validators=[MinValueValidator(1)], default=1_000_000
    )
    start_date = models.DateField(_("start date"), default=dt.date.today)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    fund = models.ForeignKey(
        "grants.Fund",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("fund"),
        help_text=_(
            "Gifts to this campaign are posted to this fund (restricted for a "
            "designated appeal, or the general fund)."
        ),
    )
    offer_cover_fees = models.BooleanField(
        _("offer “cover the fees”"),
        default=True,
        help_text=_("Let donors add the card fee so the full gift reaches the work."),
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        FieldPanel("hero_image"),
        FieldPanel("body"),
        MultiFieldPanel(
            [
                FieldPanel("goal_yen"),
                FieldPanel("start_date"),
                FieldPanel("end_date"),
                FieldPanel("fund"),
            ],
            heading=_("Goal and fund"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("offer_cover_fees"),
                InlinePanel(
                    "preset_sets",
                    label=_("Suggested amounts"),
                    help_text=_(
                        "Per currency and frequency. A currency or frequency not "
                        "listed here uses Kyosei's defaults (e.g. ¥3,000 / ¥5,000 / "
                        "¥10,000 / ¥30,000 once, US$25 / US$50 / US$100 / US$250)."
                    ),
                ),
            ],
            heading=_("Donate form"),
        ),
    ]
    base_form_class = CampaignPageForm
    parent_page_types = ["campaigns.CampaignIndexPage"]
    subpage_types: list[str] = []
    template = "campaigns/campaign_page.html"

    class Meta:
        verbose_name = _("campaign")

    @cached_property
    def _preset_sets(self) -> dict[tuple[str, str], CampaignPresetSet]:
        # One query for the form and its script's 14 currency × frequency lists.
        return {(p.currency, p.frequency): p for p in self.preset_sets.all()}

    def presets(self, currency: str, frequency: str) -> list[Money]:
        """The suggested amounts for ``currency`` and ``frequency``: the page's own
        if an editor set them, else ``DEFAULT_PRESETS``."""
        own = self._preset_sets.get((currency, frequency))
        amounts = own.amounts_list() if own is not None else []
        if amounts:
            return amounts
        major = DEFAULT_PRESETS.get(currency, {}).get(frequency, ())
        return [Money.of(amount, currency) for amount in major]

    def is_open(self, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.start_date <= today and (
            self.end_date is None or today <= self.end_date
        )

    def get_context(self, request, *args, **kwargs):
        from campaigns.views import campaign_page_context

        context = super().get_context(request, *args, **kwargs)
        context.update(campaign_page_context(self, request))
        return context

    def serve(self, request, *args, **kwargs):
        # The donate form posts back to the page; the view handles HTTP only.
        from campaigns.views import campaign_page_serve

        return campaign_page_serve(self, request, super().serve, *args, **kwargs)


class CampaignPresetSet(Orderable):
    """Suggested amounts of one campaign in one currency and frequency."""

    page = ParentalKey(
        "campaigns.CampaignPage", on_delete=models.CASCADE, related_name="preset_sets"
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        choices=[(c, c) for c in DONATION_CURRENCIES],
        default="JPY",
    )
    frequency = models.CharField(
        _("frequency"), max_length=10, choices=FREQUENCY_CHOICES, default="once"
    )
    amounts = models.CharField(
        _("amounts"),
        max_length=200,
        help_text=_(
            "Comma-separated, in the currency's usual unit: 3000, 5000, 10000 for "
            "yen; 10, 25, 50 for US dollars; 12.50 is allowed where cents exist."
        ),
    )

    panels = [FieldPanel("currency"), FieldPanel("frequency"), FieldPanel("amounts")]

    class Meta(Orderable.Meta):
        verbose_name = _("suggested amounts")

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        super().clean()
        try:
            parse_preset_amounts(self.amounts, self.currency)
        except ValueError as exc:
            raise ValidationError({"amounts": str(exc)}) from None

    def amounts_list(self) -> list[Money]:
        try:
            return parse_preset_amounts(self.amounts, self.currency)
        except ValueError:  # saved before a limit changed: show what is valid
            return []


class DonationIntent(models.Model):
    """What a donor asked to give on our form, before Stripe confirms payment."""

    class Frequency(models.TextChoices):
        ONCE = "once", _("One-time")
        MONTHLY = "monthly", _("Monthly")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for payment")
        COMPLETED = "completed", _("Paid")
        EXPIRED = "expired", _("Expired")
        FAILED = "failed", _("Payment failed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    campaign = models.ForeignKey(
        CampaignPage,
        on_delete=models.PROTECT,
        related_name="donation_intents",
        verbose_name=_("campaign"),
    )
    amount = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3, default="JPY")
    fee_cover = models.BigIntegerField(_("fee covered (minor units)"), default=0)
    frequency = models.CharField(
        _("frequency"), max_length=8, choices=Frequency.choices
    )
    family_name = models.CharField(_("family name"), max_length=100)
    given_name = models.CharField(_("given name"), max_length=100, blank=True)
    email = models.EmailField(_("email"))
    country = models.CharField(_("country"), max_length=2, default="JP")
    postal_code = models.CharField(_("postal code"), max_length=16, blank=True)
    prefecture = models.CharField(_("prefecture"), max_length=10, blank=True)
    region = models.CharField(_("state / region"), max_length=100, blank=True)
    city = models.CharField(_("city / ward"), max_length=100, blank=True)
    address_line1 = models.CharField(_("address line 1"), max_length=200, blank=True)
    address_line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=2, default="ja")
    anonymous_public = models.BooleanField(
        _("anonymous on public pages"), default=False
    )
    consent_updates = models.BooleanField(_("consents to updates"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    payment_pending = models.BooleanField(
        _("payment in progress"),
        default=False,
        help_text=_("Checkout finished but the payment method settles later."),
    )
    checkout_session_id = models.CharField(
        max_length=200, null=True, blank=True, unique=True
    )
    checkout_url = models.URLField(max_length=2000, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=100, blank=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True)
    stripe_customer_id = models.CharField(max_length=100, blank=True)
    donor = models.ForeignKey(
        "donors.Donor",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    gift = models.ForeignKey(
        "donors.Gift",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recurring_gift = models.ForeignKey(
        "donors.RecurringGift",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("donation intent")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["email", "created_at"], name="intent_email")]

    def __str__(self) -> str:
        return (
            f"{self.money} {self.get_frequency_display()} ({self.get_status_display()})"
        )

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)


class StripeEvent(models.Model):
    """A Stripe webhook event, stored once (unique id) before it is processed."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSING = "processing", _("Processing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        IGNORED = "ignored", _("Ignored (type not handled)")

    stripe_id = models.CharField(_("Stripe event id"), max_length=100, unique=True)
    type = models.CharField(_("type"), max_length=100, db_index=True)
    payload = models.JSONField(_("payload"))
    livemode = models.BooleanField(default=False)
    stripe_created = models.DateTimeField(_("created at Stripe"), null=True)
    object_ref = models.CharField(
        _("object"),
        max_length=100,
        blank=True,
        db_index=True,
        help_text=_("The Stripe object the event is about (charge, subscription…)."),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=Status.choices,
        default=Status.RECEIVED,
        db_index=True,
    )
    waiting_for = models.CharField(
        _("waiting for"), max_length=120, blank=True, db_index=True
    )
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    simulated = models.BooleanField(
        _("simulated (demo)"),
        default=False,
        help_text=_("Built by the demo checkout, not sent by Stripe."),
    )
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Stripe event")
        ordering = ["-received_at", "-id"]
        permissions = [("retry_stripeevent", "Can retry failed Stripe events")]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_id}"


class ReconciliationRun(models.Model):
    """One comparison of Stripe's recent events and charges with Kyosei's gifts.

    Written by ``stripe_reconcile`` (hourly beat, or a finance user's "run now");
    never edited. The lists are kept as they were found, for staff to follow up.
    """

    class Status(models.TextChoices):
        OK = "ok", _("Everything matches")
        REPAIRED = "repaired", _("Missed events replayed")
        ATTENTION = "attention", _("Needs attention")
        FAILED = "failed", _("Stripe could not be reached")

    started_at = models.DateTimeField(_("run at"), auto_now_add=True)
    since = models.DateTimeField(_("checked from"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, db_index=True
    )
    checked_charges = models.PositiveIntegerField(_("charges checked"), default=0)
    checked_events = models.PositiveIntegerField(_("events checked"), default=0)
    replayed_events = models.JSONField(
        _("events replayed"),
        default=list,
        help_text=_("Stripe events Kyosei had not received, stored and processed now."),
    )
    missing_gifts = models.JSONField(
        _("charges without a gift"),
        default=list,
        help_text=_("Each: charge id, amount, date."),
    )
    unknown_charges = models.JSONField(_("gifts without a Stripe charge"), default=list)
    error = models.TextField(_("error"), blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
        help_text=_("Empty: the hourly automatic run."),
    )

    class Meta:
        verbose_name = _("Stripe reconciliation")
        ordering = ["-started_at", "-id"]
        permissions = [("run_reconciliationrun", "Can run a Stripe reconciliation")]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.get_status_display()}"
