"""Receipts (寄附金受領証明書), their numbering, the gifts on them and the emails sent.

Invariants:

- A receipt number (``2026-000123``) is taken from ``ReceiptSequence`` under a row
  lock, in the same transaction as the receipt, so a rolled-back issue gives its
  number back and numbers have no gaps or duplicates. Numbers are never reused:
  a voided receipt keeps its number.
- An issued PDF is stored once with its SHA-256 and never changed (電子帳簿保存法).
  ``Receipt.save`` refuses to replace the file or hash of an existing receipt; a
  correction is a reissue (new number) that voids the earlier receipt.
- PDFs and the seal are private files (``kyosei.private_files``): random names,
  no URL, served only by views that check the user.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting

from donors.receipts.errors import ReceiptError
from kyosei.money import Money
from kyosei.private_files import PrivateFileInput, RandomName, private_storage


class ReceiptSequence(models.Model):
    """The last number issued in a calendar year; locked with SELECT FOR UPDATE."""

    year = models.PositiveIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("receipt number sequence")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


# Receipts that still stand: their gifts count as receipted.
VALID_STATUSES = ("issued", "to_void")


class Receipt(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", _("Per-gift receipt")
        ANNUAL = "annual", _("Annual receipt")
        REISSUE = "reissue", _("Reissue (再発行)")

    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")
        TO_VOID = "to_void", _("To void (gift refunded)")
        VOID = "void", _("Void")

    number = models.CharField(_("number"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ISSUED
    )
    donor = models.ForeignKey(
        "donors.Donor",
        on_delete=models.PROTECT,
        related_name="receipts",
        verbose_name=_("donor"),
    )
    year = models.PositiveIntegerField(
        _("tax year"), help_text=_("Calendar year the gifts were received in.")
    )
    gifts = models.ManyToManyField(
        "donors.Gift", through="ReceiptGift", related_name="receipts"
    )
    total_yen = models.BigIntegerField(_("total (yen)"))
    language = models.CharField(_("language"), max_length=2)
    certified = models.BooleanField(
        _("certifies tax status"),
        help_text=_("Whether the receipt states the NPO's certified status (認定)."),
    )
    # What was printed, kept for staff and the donor register: the donor's name
    # and address as on the PDF.
    donor_name = models.CharField(_("donor name as printed"), max_length=300)
    donor_address = models.TextField(_("donor address as printed"))
    pdf = models.FileField(
        _("PDF"),
        upload_to=RandomName("receipts"),
        storage=private_storage,
        max_length=200,
    )
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64)
    replaces = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        verbose_name=_("replaces"),
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )
    issued_at = models.DateTimeField(_("issued at"))
    flagged_reason = models.CharField(_("why to void"), max_length=300, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("voided by"),
    )
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("void reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("receipt")
        ordering = ["-issued_at", "-id"]
        permissions = [
            ("issue_receipt", "Can issue and reissue receipts"),
            ("void_receipt", "Can void receipts"),
        ]
        indexes = [models.Index(fields=["donor", "year"], name="receipt_donor_year")]
        constraints = [
            # The annual batch's restart guard: one standing annual receipt per
            # donor, year and tax treatment (certified gifts / earlier gifts).
            models.UniqueConstraint(
                fields=["donor", "year", "certified"],
                condition=models.Q(kind="annual", status__in=VALID_STATUSES),
                name="receipt_one_annual_per_donor_year",
            ),
            models.CheckConstraint(
                condition=models.Q(total_yen__gt=0), name="receipt_total_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs) -> None:
        # Write-once guard (電子帳簿保存法): the stored PDF and its hash never change.
        if self.pk is not None:
            stored = (
                type(self)
                .objects.filter(pk=self.pk)
                .values_list("pdf", "pdf_sha256")
                .first()
            )
            if stored and stored[1] and stored != (self.pdf.name, self.pdf_sha256):
                message = _(
                    "Receipt %(n)s: an issued PDF is never replaced; "
                    "reissue the receipt instead."
                )
                raise ReceiptError(str(message) % {"n": self.number})
        super().save(*args, **kwargs)

    @property
    def is_valid(self) -> bool:
        return self.status in VALID_STATUSES

    @property
    def total(self) -> Money:
        return Money.yen(self.total_yen)

    def pdf_bytes(self) -> bytes:
        with self.pdf.open("rb") as handle:
            return handle.read()

    def pdf_is_intact(self) -> bool:
        """Whether the stored file is there and still has the hash recorded at
        issue."""
        try:
            data = self.pdf_bytes()
        except (FileNotFoundError, ValueError):
            return False
        return hashlib.sha256(data).hexdigest() == self.pdf_sha256


class ReceiptGift(models.Model):
    """A gift on a receipt, as printed: the amounts are a snapshot at issue."""

    receipt = models.ForeignKey(Receipt, on_delete=models.PROTECT, related_name="lines")
    gift = models.ForeignKey(
        "donors.Gift", on_delete=models.PROTECT, related_name="receipt_lines"
    )
    amount_yen = models.BigIntegerField(_("amount receipted (yen)"))
    original_amount = models.BigIntegerField(_("original amount (minor units)"))
    original_currency = models.CharField(_("original currency"), max_length=3)
    received_on = models.DateField(_("date received"))

    class Meta:
        verbose_name = _("gift on a receipt")
        ordering = ["received_on", "gift_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["receipt", "gift"], name="receiptgift_once_per_receipt"
            )
        ]

    def __str__(self) -> str:
        return f"{self.receipt} / {self.gift_id}"

    @property
    def original(self) -> Money:
        return Money(self.original_amount, self.original_currency)


class ReceiptEmail(models.Model):
    """A thank-you email with a receipt attached, and what became of it."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        BOUNCED = "bounced", _("Bounced")

    receipt = models.ForeignKey(
        Receipt, on_delete=models.PROTECT, related_name="emails"
    )
    to_email = models.EmailField(_("to"))
    language = models.CharField(_("language"), max_length=2)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("receipt email")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.receipt} → {self.to_email} ({self.status})"


@register_setting(icon="doc-full")
class ReceiptSettings(BaseSiteSetting):
    """How receipts look: the seal image and the era-name date."""

    # A signature stamp: private like the receipts, read only by the PDF renderer.
    seal = models.FileField(
        _("seal image (印影)"),
        upload_to=RandomName("receipts/seal"),
        storage=private_storage,
        blank=True,
        help_text=_("PNG or JPEG, square, printed beside the representative's name."),
    )
    show_wareki = models.BooleanField(
        _("show Japanese era dates (和暦)"),
        default=False,
        help_text=_("Print 令和 dates beside the Western dates on Japanese receipts."),
    )
    closing_note_ja = models.CharField(
        _("closing note (Japanese)"),
        max_length=300,
        blank=True,
        default="ご支援に心より感謝申し上げます。",
    )
    closing_note_en = models.CharField(
        _("closing note (English)"),
        max_length=300,
        blank=True,
        default="Thank you for your generous support.",
    )

    panels = [
        FieldPanel("seal", widget=PrivateFileInput),
        FieldPanel("show_wareki"),
        FieldPanel("closing_note_ja"),
        FieldPanel("closing_note_en"),
    ]

    class Meta:
        verbose_name = _("receipt settings")
