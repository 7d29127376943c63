"""Campaign pages, donation intents and the stored Stripe events.

A ``DonationIntent`` is what a donor asked for on our donate form; it never holds
money. Money is recorded only when Stripe says it was paid, by the event
processing service (``campaigns.services.stripe_events``) through
``donors.services.gifts.gift_record``.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.images.blocks import ImageBlock
from wagtail.models import Page

from kyosei.money import Money

#: Currencies a donor may give in; JPY is the default and the books' currency.
DONATION_CURRENCIES = ("JPY", "USD", "EUR", "AUD", "GBP", "VND", "PHP")


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
    suggested_amounts_jpy = models.CharField(
        _("suggested amounts (yen)"),
        max_length=200,
        default="3000,5000,10000,30000",
        help_text=_("Comma-separated whole yen, e.g. 3000,5000,10000."),
    )
    suggested_amounts_monthly_jpy = models.CharField(
        _("suggested monthly amounts (yen)"),
        max_length=200,
        default="1000,3000,5000",
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
                FieldPanel("suggested_amounts_jpy"),
                FieldPanel("suggested_amounts_monthly_jpy"),
                FieldPanel("offer_cover_fees"),
            ],
            heading=_("Donate form"),
        ),
    ]
    parent_page_types = ["campaigns.CampaignIndexPage"]
    subpage_types: list[str] = []
    template = "campaigns/campaign_page.html"

    class Meta:
        verbose_name = _("campaign")

    @staticmethod
    def _amounts(raw: str) -> list[int]:
        out = []
        for part in raw.split(","):
            part = part.strip()
            if part.isdigit() and int(part) > 0:
                out.append(int(part))
        return out

    @property
    def presets_once(self) -> list[int]:
        return self._amounts(self.suggested_amounts_jpy)

    @property
    def presets_monthly(self) -> list[int]:
        return self._amounts(self.suggested_amounts_monthly_jpy)

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
