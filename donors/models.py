"""Donors, households, consents, gifts, refunds, recurring gifts and merges."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from taggit.managers import TaggableManager

from donors.normalise import PREFECTURES
from kyosei.money import Money


class Language(models.TextChoices):
    JA = "ja", "日本語"
    EN = "en", "English"
    VI = "vi", "Tiếng Việt"


class Household(models.Model):
    """People sharing a livelihood (生計を一にする者): one donor in the PST."""

    name = models.CharField(_("name"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("household")

    def __str__(self) -> str:
        return self.name


class Donor(models.Model):
    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", _("Individual")
        ORGANISATION = "organisation", _("Organisation")

    class DonorType(models.TextChoices):
        INDIVIDUAL = "individual", _("Individual")
        CORPORATION = "corporation", _("Corporation or group")
        CERTIFIED_NPO = "certified_npo", _("Certified NPO / 特定公益増進法人")
        GOVERNMENT = "government", _("Government body")

    class Source(models.TextChoices):
        ONLINE = "online", _("Online giving")
        TRANSFER = "transfer", _("Bank / postal transfer")
        EVENT = "event", _("Event")
        IMPORT = "import", _("Imported list")
        REFERRAL = "referral", _("Referral")
        OTHER = "other", _("Other")

    kind = models.CharField(
        _("kind"), max_length=12, choices=Kind.choices, default=Kind.INDIVIDUAL
    )
    donor_type = models.CharField(
        _("donor type"),
        max_length=16,
        choices=DonorType.choices,
        default=DonorType.INDIVIDUAL,
    )
    family_name = models.CharField(_("family name (姓)"), max_length=100, blank=True)
    given_name = models.CharField(_("given name (名)"), max_length=100, blank=True)
    family_name_kana = models.CharField(
        _("family name kana (セイ)"), max_length=100, blank=True
    )
    given_name_kana = models.CharField(
        _("given name kana (メイ)"), max_length=100, blank=True
    )
    organisation_name = models.CharField(
        _("organisation name"), max_length=200, blank=True
    )
    organisation_name_kana = models.CharField(
        _("organisation name kana"), max_length=200, blank=True
    )
    latin_name = models.CharField(
        _("name in Latin letters"),
        max_length=200,
        blank=True,
        help_text=_("As the donor writes it, e.g. “Nguyễn Văn An” (diacritics kept)."),
    )
    email = models.EmailField(_("email"), blank=True)
    email_secondary = models.EmailField(_("second email"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    country = models.CharField(_("country (ISO code)"), max_length=2, default="JP")
    postal_code = models.CharField(_("postal code"), max_length=16, blank=True)
    prefecture = models.CharField(
        _("prefecture"),
        max_length=10,
        blank=True,
        choices=[(p, p) for p in PREFECTURES],
    )
    region = models.CharField(
        _("state / region (outside Japan)"), max_length=100, blank=True
    )
    city = models.CharField(_("city / ward"), max_length=100, blank=True)
    address_line1 = models.CharField(_("address line 1"), max_length=200, blank=True)
    address_line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=2,
        choices=Language.choices,
        default=Language.JA,
    )
    is_officer = models.BooleanField(_("officer (役員)"), default=False)
    officer_since = models.DateField(_("officer since"), null=True, blank=True)
    officer_until = models.DateField(_("officer until"), null=True, blank=True)
    household = models.ForeignKey(
        Household,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("household"),
    )
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.OTHER
    )
    notes = models.TextField(_("notes"), blank=True)
    tags = TaggableManager(_("tags"), blank=True)
    needs_review = models.BooleanField(
        _("needs review"),
        default=False,
        help_text=_("Created automatically (e.g. from a transfer); check the details."),
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_donors",
        verbose_name=_("merged into"),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="donor",
        help_text=_("Donor portal account."),
    )
    # Blocking keys for the duplicate finder and transfer matching (normalise.py).
    email_key = models.CharField(
        max_length=254, blank=True, db_index=True, editable=False
    )
    phone_key = models.CharField(
        max_length=30, blank=True, db_index=True, editable=False
    )
    kana_key = models.CharField(
        max_length=200, blank=True, db_index=True, editable=False
    )
    kana_postal_key = models.CharField(
        max_length=220, blank=True, db_index=True, editable=False
    )
    latin_country_key = models.CharField(
        max_length=220, blank=True, db_index=True, editable=False
    )
    search_text = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("donor")
        ordering = ["family_name_kana", "given_name_kana", "id"]
        permissions = [
            ("merge_donor", "Can merge donors"),
            ("export_donor", "Can export donors"),
        ]
        indexes = [models.Index(fields=["merged_into"], name="donor_merged_into")]

    def __str__(self) -> str:
        return self.display_name()

    def display_name(self, language: str = "ja") -> str:
        """Japanese order (姓 名) in Japanese; the Latin name first in en/vi."""
        if self.kind == self.Kind.ORGANISATION:
            return self.organisation_name or self.latin_name or f"#{self.pk}"
        japanese = " ".join(p for p in (self.family_name, self.given_name) if p)
        if language == "ja":
            return japanese or self.latin_name or self.kana_name or f"#{self.pk}"
        return self.latin_name or japanese or self.kana_name or f"#{self.pk}"

    @property
    def kana_name(self) -> str:
        if self.kind == self.Kind.ORGANISATION:
            return self.organisation_name_kana
        return " ".join(p for p in (self.family_name_kana, self.given_name_kana) if p)

    @property
    def is_overseas(self) -> bool:
        return self.country != "JP"

    @property
    def has_address(self) -> bool:
        if self.is_overseas:
            return bool(self.address_line1 and self.city)
        return bool(self.postal_code and self.prefecture and self.address_line1)

    def address_lines(self) -> list[str]:
        if self.is_overseas:
            return [
                line
                for line in (
                    self.address_line1,
                    self.address_line2,
                    " ".join(
                        p for p in (self.city, self.region, self.postal_code) if p
                    ),
                    self.country,
                )
                if line
            ]
        first = f"〒{self.postal_code}" if self.postal_code else ""
        return [
            line
            for line in (
                first,
                f"{self.prefecture}{self.city}{self.address_line1}",
                self.address_line2,
            )
            if line
        ]


class Consent(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("Email newsletters and appeals")
        POST = "post", _("Letters by post")
        PHONE = "phone", _("Phone calls")
        PUBLIC_NAME = "public_name", _("Name published in reports")

    donor = models.ForeignKey(Donor, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    granted = models.BooleanField(_("granted"))
    recorded_on = models.DateField(_("recorded on"))
    source = models.CharField(_("source"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("consent")
        ordering = ["-recorded_on", "-id"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {'yes' if self.granted else 'no'}"


class RecurringGift(models.Model):
    class Interval(models.TextChoices):
        MONTH = "month", _("Monthly")
        YEAR = "year", _("Yearly")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        PAST_DUE = "past_due", _("Payment failed (retrying)")
        CANCELLED = "cancelled", _("Cancelled")

    donor = models.ForeignKey(
        Donor, on_delete=models.PROTECT, related_name="recurring_gifts"
    )
    interval = models.CharField(_("interval"), max_length=5, choices=Interval.choices)
    amount = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3, default="JPY")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    fund = models.ForeignKey("grants.Fund", on_delete=models.PROTECT, related_name="+")
    campaign = models.ForeignKey(
        "wagtailcore.Page",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    started_on = models.DateField(_("started on"))
    next_charge_on = models.DateField(_("next charge on"), null=True, blank=True)
    cancelled_on = models.DateField(_("cancelled on"), null=True, blank=True)
    stripe_subscription_id = models.CharField(
        max_length=100, null=True, blank=True, unique=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("recurring gift")

    def __str__(self) -> str:
        return f"{self.donor} {self.money} / {self.get_interval_display()}"

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)


class Gift(models.Model):
    class Kind(models.TextChoices):
        DONATION = "donation", _("Donation (寄附金)")
        SUPPORTING_FEE = "supporting_fee", _("Supporting-member fee (賛助会費)")
        MEMBER_DUES = "member_dues", _("Regular member dues (正会員会費)")
        IN_KIND = "in_kind", _("In-kind gift (現物寄附)")

    class Method(models.TextChoices):
        CARD = "card", _("Card (online)")
        BANK_TRANSFER = "bank_transfer", _("Bank transfer (銀行振込)")
        POSTAL_TRANSFER = "postal_transfer", _("Postal transfer (郵便振替)")
        CASH = "cash", _("Cash")
        IN_KIND = "in_kind", _("In kind")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RECEIVED = "received", _("Received")
        REFUNDED = "refunded", _("Refunded")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
        DISPUTED = "disputed", _("Disputed")

    donor = models.ForeignKey(
        Donor,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="gifts",
        help_text=_("Empty for a gift whose giver is unknown (e.g. a cash box)."),
        db_index=False,  # gift_donor_date leads with donor
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    amount = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3, default="JPY")
    amount_yen = models.BigIntegerField(_("settled (yen)"))
    fee_yen = models.BigIntegerField(_("fee (yen)"), default=0)
    refunded_yen = models.BigIntegerField(_("refunded (yen)"), default=0)
    received_on = models.DateField(_("date received"))
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    # The fund of the gift's ledger entry, copied here for lists and filters:
    # the money is the entry, whose fund keeps its database constraint. This copy
    # has none (PostgreSQL checked it row by row at commit, ~0.6 s of a
    # 100,000-row import); the gift services set both from the same Fund, which
    # the ledger locks while posting, and funds are never deleted (PROTECT).
    fund = models.ForeignKey(
        "grants.Fund",
        on_delete=models.PROTECT,
        related_name="gifts",
        verbose_name=_("fund"),
        db_constraint=False,
    )
    campaign = models.ForeignKey(
        "wagtailcore.Page",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("campaign"),
        db_index=False,  # gift_campaign: partial, most gifts have none
    )
    recurring_gift = models.ForeignKey(
        RecurringGift,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="gifts",
        db_index=False,  # gift_recurring: partial, most gifts have none
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED
    )
    anonymous_public = models.BooleanField(
        _("anonymous on public pages"),
        default=False,
        help_text=_("The donor is known to us but asked not to be named publicly."),
    )
    in_kind_description = models.CharField(
        _("in-kind description"), max_length=300, blank=True
    )
    # Unique where set (partial unique indexes in Meta): each external reference
    # records one gift. Partial, so the many gifts without one cost no index
    # entry, and without the pattern-match (LIKE) twin Django adds to unique
    # text columns on PostgreSQL. NULL, not "", is "none" (DJ001 does not apply).
    stripe_charge_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    stripe_invoice_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    import_fingerprint = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received by"),
        db_index=False,  # never searched by; a bulk import pays for every index
    )
    # No database foreign-key constraint: PostgreSQL would check it row by row
    # at commit, locking each new ledger row again (~1 s of a 100,000-row
    # import). The entry is written by the gift services in the same
    # transaction as the gift, and ledger rows can never be updated or deleted
    # (a database trigger refuses), so the link cannot dangle; the unique index
    # stays. tests/donors/imports checks every imported gift's entry exists.
    ledger_entry = models.OneToOneField(
        "grants.LedgerEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    notes = models.TextField(_("notes"), blank=True)
    acknowledged_at = models.DateTimeField(
        _("thanked at"),
        null=True,
        blank=True,
        help_text=_(
            "When the donor of this online gift was sent a receipt or a thank-you "
            "email. Empty means it is still to be sent; it is retried hourly."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("gift")
        ordering = ["-received_on", "-id"]
        permissions = [
            ("refund_gift", "Can refund gifts"),
            ("export_gift", "Can export gifts"),
        ]
        indexes = [
            models.Index(fields=["donor", "received_on"], name="gift_donor_date"),
            models.Index(fields=["received_on"], name="gift_date"),
            models.Index(
                fields=["campaign"],
                condition=models.Q(campaign__isnull=False),
                name="gift_campaign",
            ),
            models.Index(
                fields=["recurring_gift"],
                condition=models.Q(recurring_gift__isnull=False),
                name="gift_recurring",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_charge_id"],
                condition=models.Q(stripe_charge_id__isnull=False),
                name="gift_stripe_charge_unique",
            ),
            models.UniqueConstraint(
                fields=["stripe_invoice_id"],
                condition=models.Q(stripe_invoice_id__isnull=False),
                name="gift_stripe_invoice_unique",
            ),
            models.UniqueConstraint(
                fields=["import_fingerprint"],
                condition=models.Q(import_fingerprint__isnull=False),
                name="gift_import_fingerprint_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="gift_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(refunded_yen__gte=0)
                & models.Q(refunded_yen__lte=models.F("amount_yen")),
                name="gift_refund_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.received_on} {self.money}"

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)

    @property
    def net_yen(self) -> int:
        return self.amount_yen - self.fee_yen

    @property
    def refundable_yen(self) -> int:
        return self.amount_yen - self.refunded_yen


class GiftRefund(models.Model):
    gift = models.ForeignKey(Gift, on_delete=models.PROTECT, related_name="refunds")
    amount_yen = models.BigIntegerField(_("amount (yen)"))
    refunded_on = models.DateField(_("refunded on"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    stripe_refund_id = models.CharField(
        max_length=100, null=True, blank=True, unique=True
    )
    ledger_entry = models.OneToOneField(
        "grants.LedgerEntry", on_delete=models.PROTECT, related_name="+"
    )
    refunded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("refund")

    def __str__(self) -> str:
        return f"-¥{self.amount_yen:,} ({self.refunded_on})"


class DonorMerge(models.Model):
    """What a merge moved, kept for review: the merged donor's snapshot and counts."""

    survivor = models.ForeignKey(
        Donor, on_delete=models.PROTECT, related_name="merges_in"
    )
    merged = models.ForeignKey(
        Donor, on_delete=models.PROTECT, related_name="merges_out"
    )
    snapshot = models.JSONField(_("merged donor as it was"))
    moved = models.JSONField(_("records moved"), default=dict)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    merged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("donor merge")
        ordering = ["-merged_at"]

    def __str__(self) -> str:
        return f"#{self.merged_id} → #{self.survivor_id}"


class DuplicateDismissal(models.Model):
    """Staff said two donors are not the same person: the finder stops pairing them.

    The pair is stored ordered (``donor_low`` < ``donor_high``) so it is unique
    whichever way round it was dismissed. ``related_name="+"`` keeps these rows out
    of ``donor_merge``'s sweep of relations (a merged donor drops out of the finder).
    """

    donor_low = models.ForeignKey(Donor, on_delete=models.CASCADE, related_name="+")
    donor_high = models.ForeignKey(Donor, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    dismissed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("dismissed duplicate")
        constraints = [
            models.UniqueConstraint(
                fields=["donor_low", "donor_high"], name="duplicate_dismissal_pair"
            ),
            models.CheckConstraint(
                condition=models.Q(donor_low__lt=models.F("donor_high")),
                name="duplicate_dismissal_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.donor_low_id} ≠ #{self.donor_high_id}"


class GivingTotalsReport(models.Model):
    """No rows, ever: the home of the permission to see giving totals.

    Wagtail shows a user every audit entry of any model they hold *any*
    permission on, so an aggregate permission declared on :class:`Donor` let the
    Board read donors' names in the site history. Aggregate-only permissions live
    on this model, which no personal record is, and which nothing is logged
    against. It keeps an (empty) table so that code walking every model's table
    (demo checks, data searches) needs no exception for it.
    """

    class Meta:
        default_permissions = ()
        verbose_name = _("giving totals report")
        permissions = [
            ("view_giving_totals", "Can view giving totals (no personal data)"),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
