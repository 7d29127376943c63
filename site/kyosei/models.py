"""Core models every app may use: the organisation profile and the home page."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField
from wagtail.models import Orderable, Page, Site


def validate_corporate_number(value: str) -> None:
    """法人番号: 13 digits, the first being a check digit (国税庁の計算式)."""
    if len(value) != 13 or not value.isdigit():
        raise ValidationError(_("A corporate number (法人番号) is exactly 13 digits."))
    body = value[1:]
    # Digits are weighted from the right: odd positions 1, even positions 2.
    total = sum(
        int(digit) * (1 if position % 2 else 2)
        for position, digit in enumerate(reversed(body), start=1)
    )
    if int(value[0]) != 9 - (total % 9):
        raise ValidationError(
            _("The corporate number's check digit does not match; please re-check it.")
        )


class CertificationStatus(models.TextChoices):
    NONE = "none", _("Not certified")
    SPECIAL = "special", _("Specially certified (特例認定NPO法人)")
    CERTIFIED = "certified", _("Certified (認定NPO法人)")


@register_setting(icon="home")
class OrganisationProfile(BaseSiteSetting, ClusterableModel):
    """Who the NPO is. Receipts, the donor register and reports read it."""

    legal_name_ja = models.CharField(_("legal name (Japanese)"), max_length=200)
    legal_name_en = models.CharField(
        _("legal name (English)"), max_length=200, blank=True
    )
    corporate_number = models.CharField(
        _("corporate number (法人番号)"),
        max_length=13,
        blank=True,
        validators=[validate_corporate_number],
    )
    postal_code = models.CharField(_("postal code"), max_length=8, blank=True)
    address_ja = models.CharField(_("address (Japanese)"), max_length=300, blank=True)
    address_en = models.CharField(_("address (English)"), max_length=300, blank=True)
    representative_title = models.CharField(
        _("representative's title"), max_length=100, blank=True, default="理事長"
    )
    representative_name = models.CharField(
        _("representative's name"), max_length=100, blank=True
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        _("fiscal year start month"),
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text=_("Most NPOs start their business year in April (4)."),
    )
    founded_on = models.DateField(_("date of incorporation"), null=True, blank=True)
    certification_status = models.CharField(
        _("certification status"),
        max_length=20,
        choices=CertificationStatus.choices,
        default=CertificationStatus.NONE,
    )
    certification_authority = models.CharField(
        _("certifying authority (所轄庁)"), max_length=100, blank=True
    )
    certification_notice_number = models.CharField(
        _("certification notice number (認定番号)"), max_length=100, blank=True
    )
    certification_date = models.DateField(
        _("certification date (認定日)"), null=True, blank=True
    )
    certification_valid_from = models.DateField(_("valid from"), null=True, blank=True)
    certification_valid_until = models.DateField(
        _("valid until"), null=True, blank=True
    )

    panels = [
        MultiFieldPanel(
            [
                FieldPanel("legal_name_ja"),
                FieldPanel("legal_name_en"),
                FieldPanel("corporate_number"),
                FieldPanel("founded_on"),
                FieldPanel("fiscal_year_start_month"),
            ],
            heading=_("Organisation"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("postal_code"),
                FieldPanel("address_ja"),
                FieldPanel("address_en"),
                FieldPanel("representative_title"),
                FieldPanel("representative_name"),
                FieldPanel("phone"),
                FieldPanel("email"),
            ],
            heading=_("Contact"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("certification_status"),
                FieldPanel("certification_authority"),
                FieldPanel("certification_notice_number"),
                FieldPanel("certification_date"),
                FieldPanel("certification_valid_from"),
                FieldPanel("certification_valid_until"),
            ],
            heading=_("Certified NPO status (認定NPO法人)"),
            help_text=_(
                "Receipts claim tax status only for gifts received on or after "
                "the certification date and within the validity period."
            ),
        ),
        InlinePanel(
            "ordinance_designations",
            heading=_("Ordinance designations (条例個別指定)"),
            label=_("designation"),
        ),
        InlinePanel(
            "transfer_accounts",
            heading=_("Accounts for bank and postal transfers"),
            label=_("account"),
        ),
    ]

    class Meta:
        verbose_name = _("organisation profile")

    def __str__(self) -> str:
        return self.legal_name_ja or str(_("Organisation profile"))

    def clean(self) -> None:
        super().clean()
        if self.certification_status != CertificationStatus.NONE:
            missing = [
                str(self._meta.get_field(name).verbose_name)
                for name in (
                    "certification_authority",
                    "certification_notice_number",
                    "certification_date",
                )
                if not getattr(self, name)
            ]
            if missing:
                raise ValidationError(
                    _("A certified NPO needs: %(fields)s.")
                    % {"fields": ", ".join(missing)}
                )
        if (
            self.certification_valid_from
            and self.certification_valid_until
            and self.certification_valid_until < self.certification_valid_from
        ):
            raise ValidationError(
                {"certification_valid_until": _("Must be after 'valid from'.")}
            )

    def is_certified_on(self, day: dt.date) -> bool:
        """Whether a gift received on ``day`` may carry a tax-deduction receipt."""
        if self.certification_status == CertificationStatus.NONE:
            return False
        start = self.certification_valid_from or self.certification_date
        if start is None or day < start:
            return False
        return not (
            self.certification_valid_until and day > self.certification_valid_until
        )

    def fiscal_year_of(self, day: dt.date) -> int:
        """The business year a date falls in, named by the calendar year it starts."""
        return day.year if day.month >= self.fiscal_year_start_month else day.year - 1

    def fiscal_year_bounds(self, fiscal_year: int) -> tuple[dt.date, dt.date]:
        """First and last day (inclusive) of business year ``fiscal_year``."""
        start = dt.date(fiscal_year, self.fiscal_year_start_month, 1)
        if self.fiscal_year_start_month == 1:
            end = dt.date(fiscal_year, 12, 31)
        else:
            end = dt.date(
                fiscal_year + 1, self.fiscal_year_start_month, 1
            ) - dt.timedelta(days=1)
        return start, end


class OrdinanceDesignation(Orderable):
    profile = ParentalKey(
        OrganisationProfile,
        on_delete=models.CASCADE,
        related_name="ordinance_designations",
    )
    municipality = models.CharField(_("municipality"), max_length=100)
    designated_on = models.DateField(_("designated on"))

    panels = [FieldPanel("municipality"), FieldPanel("designated_on")]

    def __str__(self) -> str:
        return f"{self.municipality} ({self.designated_on:%Y-%m-%d})"


class TransferAccount(Orderable):
    class Kind(models.TextChoices):
        BANK = "bank", _("Bank transfer (銀行振込)")
        POSTAL = "postal", _("Postal transfer (郵便振替)")

    class AccountType(models.TextChoices):
        ORDINARY = "ordinary", _("Ordinary (普通)")
        CURRENT = "current", _("Current (当座)")
        TRANSFER = "transfer", _("Postal transfer account (振替口座)")

    profile = ParentalKey(
        OrganisationProfile, on_delete=models.CASCADE, related_name="transfer_accounts"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    institution = models.CharField(_("bank / institution"), max_length=100)
    branch = models.CharField(_("branch"), max_length=100, blank=True)
    account_type = models.CharField(
        _("account type"), max_length=10, choices=AccountType.choices
    )
    account_number = models.CharField(_("account number"), max_length=30)
    holder_name = models.CharField(_("account holder"), max_length=200)
    holder_kana = models.CharField(
        _("account holder (kana)"), max_length=200, blank=True
    )
    show_on_site = models.BooleanField(_("show on the public site"), default=True)

    panels = [
        FieldPanel("kind"),
        FieldPanel("institution"),
        FieldPanel("branch"),
        FieldPanel("account_type"),
        FieldPanel("account_number"),
        FieldPanel("holder_name"),
        FieldPanel("holder_kana"),
        FieldPanel("show_on_site"),
    ]

    def __str__(self) -> str:
        return f"{self.institution} {self.branch} {self.account_number}".strip()


def organisation_profile() -> OrganisationProfile:
    """The profile of the default site, for code that runs without a request."""
    site = Site.objects.filter(is_default_site=True).first() or Site.objects.first()
    if site is None:
        raise OrganisationProfile.DoesNotExist("No Wagtail site is configured.")
    return OrganisationProfile.for_site(site)


class HomePage(Page):
    """The public landing page; one per language (ja at /, en at /en/, vi at /vi/)."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("home page")


class DemoMFAWaiver(models.Model):
    """DEMO ONLY: lets a printed demo staff user skip MFA enrolment.

    Honoured only while ``KYOSEI_DEMO=1``; ``seed_demo`` creates these rows and
    nothing else does. A production deployment never has the setting on.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("demo MFA waiver")

    def __str__(self) -> str:
        return f"DEMO MFA waiver for user {self.user_id}"
