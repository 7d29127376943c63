"""Transfer imports: CSV column-mapping profiles, payer aliases, batches and rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kyosei.private_files import RandomName, private_storage


class TransferProfile(models.Model):
    """How to read one bank's (or ゆうちょ's) CSV statement.

    Columns are named by their header text, or by 1-based position ("3") when the
    file has no header row. Either ``amount_column`` holds a signed amount, or
    ``credit_column`` / ``debit_column`` hold incoming / outgoing amounts.
    """

    class Encoding(models.TextChoices):
        AUTO = "auto", _("Detect (UTF-8, then CP932)")
        CP932 = "cp932", "CP932 (Shift_JIS)"
        UTF8 = "utf-8", "UTF-8"
        UTF8_SIG = "utf-8-sig", _("UTF-8 with BOM")

    class Method(models.TextChoices):
        BANK = "bank_transfer", _("Bank transfer (銀行振込)")
        POSTAL = "postal_transfer", _("Postal transfer (郵便振替)")

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    method = models.CharField(
        _("gift method"), max_length=16, choices=Method.choices, default=Method.BANK
    )
    encoding = models.CharField(
        _("encoding"), max_length=10, choices=Encoding.choices, default=Encoding.AUTO
    )
    delimiter = models.CharField(_("delimiter"), max_length=1, default=",")
    has_header = models.BooleanField(_("first row is a header"), default=True)
    skip_rows = models.PositiveSmallIntegerField(
        _("lines to skip before the header"), default=0
    )
    date_column = models.CharField(_("date column"), max_length=100)
    date_format = models.CharField(
        _("date format"),
        max_length=40,
        default="%Y/%m/%d",
        help_text=_(
            "A strftime format such as %Y/%m/%d, or “wareki” for 令和6年4月1日, "
            "R06.04.01, H31/4/30."
        ),
    )
    amount_column = models.CharField(
        _("signed amount column"), max_length=100, blank=True
    )
    credit_column = models.CharField(
        _("incoming amount column (入金)"), max_length=100, blank=True
    )
    debit_column = models.CharField(
        _("outgoing amount column (出金)"), max_length=100, blank=True
    )
    payer_column = models.CharField(_("payer name column"), max_length=100)
    reference_column = models.CharField(
        _("reference column"), max_length=100, blank=True
    )
    description_column = models.CharField(
        _("description column (摘要)"), max_length=100, blank=True
    )
    balance_column = models.CharField(_("balance column"), max_length=100, blank=True)
    skip_keywords = models.CharField(
        _("skip rows whose description contains"),
        max_length=300,
        blank=True,
        help_text=_("Comma-separated, e.g. 利息,ﾘｿｸ,手数料 (interest and fees)."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("transfer CSV profile")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if not (self.amount_column or self.credit_column):
            raise ValidationError(
                _("Map either a signed amount column or an incoming amount column.")
            )
        if self.amount_column and (self.credit_column or self.debit_column):
            raise ValidationError(
                _("Use a signed amount column or incoming/outgoing columns, not both.")
            )


class PayerAlias(models.Model):
    """A payer name (normalised key) a staff member confirmed belongs to a donor."""

    donor = models.ForeignKey(
        "donors.Donor", on_delete=models.CASCADE, related_name="payer_aliases"
    )
    payer_key = models.CharField(_("payer key"), max_length=200, unique=True)
    payer_name = models.CharField(_("payer name as printed"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("payer alias")
        verbose_name_plural = _("payer aliases")

    def __str__(self) -> str:
        return f"{self.payer_name} → #{self.donor_id}"


class ImportBatch(models.Model):
    class Format(models.TextChoices):
        ZENGIN = "zengin", _("全銀協 fixed-length")
        CSV = "csv", _("CSV statement")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        PARSING = "parsing", _("Reading")
        PREVIEW = "preview", _("Ready to confirm")
        APPLYING = "applying", _("Applying")
        APPLIED = "applied", _("Applied")
        REFUSED = "refused", _("Refused")
        UNDONE = "undone", _("Undone")
        FAILED = "failed", _("Failed")
        ABANDONED = "abandoned", _("Abandoned")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("imported by"),
    )
    created_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    file_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64, db_index=True)
    # Bank statements are personal data: private storage, random name.
    upload = models.FileField(
        upload_to=RandomName("imports/transfers"),
        storage=private_storage,
        blank=True,
    )
    format = models.CharField(_("format"), max_length=8, choices=Format.choices)
    profile = models.ForeignKey(
        TransferProfile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("profile"),
    )
    encoding = models.CharField(_("encoding"), max_length=10, default="auto")
    fund = models.ForeignKey(
        "grants.Fund", on_delete=models.PROTECT, related_name="+", null=True
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    counts = models.JSONField(_("counts"), default=dict)
    errors = models.JSONField(_("errors"), default=list)
    applied_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Last sign of life of the task working on the batch (queued, progress):
    # a batch waiting, reading or applying with none for a lease has stopped.
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)

    class Meta:
        verbose_name = _("transfer import")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("undo_importbatch", "Can undo a transfer import"),
            # Applying records gifts (money): Finance and Admin, not who uploads.
            ("apply_importbatch", "Can apply a transfer import"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def percent(self) -> int:
        if self.status in (self.Status.PREVIEW, self.Status.APPLIED):
            return 100
        if not self.total_rows:
            return 0
        return min(100, self.processed_rows * 100 // self.total_rows)


class ImportRow(models.Model):
    class Outcome(models.TextChoices):
        MATCHED = "matched", _("Matched")
        AMBIGUOUS = "ambiguous", _("Ambiguous")
        NEW = "new", _("New donor")
        SKIPPED = "skipped", _("Not an incoming transfer")
        DUPLICATE = "duplicate", _("Already imported")

    # An import row is a write-once record of one line of a bank file. Its
    # links carry no database constraint (``db_constraint=False``): PostgreSQL
    # checks a foreign key row by row at commit, and these three checks cost
    # ~2 s of a 100,000-row import, for links the import itself has just made
    # from rows it holds (the batch, the gift it recorded, a donor it read). The
    # ORM still applies ``on_delete``, and gifts and donors are never deleted
    # through Kyosei (kept records; donors are merged, and a merge re-points
    # these rows like every other relation).
    # Indexed by importrow_outcome (batch, outcome); a second index on batch
    # alone would only slow the 100,000-row inserts of a big statement.
    batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.CASCADE,
        related_name="rows",
        db_index=False,
        db_constraint=False,
    )
    row_number = models.PositiveIntegerField(_("row"))
    raw = models.TextField(_("raw"), blank=True)
    received_on = models.DateField(_("date"), null=True)
    amount_yen = models.BigIntegerField(_("amount (yen)"), default=0)
    payer_name = models.CharField(_("payer"), max_length=200, blank=True)
    payer_key = models.CharField(max_length=200, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    donor = models.ForeignKey(
        "donors.Donor",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    candidates = models.JSONField(default=list, blank=True)
    gift = models.ForeignKey(
        "donors.Gift",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,  # never searched by: rows are read by batch
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("imported row")
        ordering = ["batch", "row_number"]
        indexes = [models.Index(fields=["batch", "outcome"], name="importrow_outcome")]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row_number}"


class SpreadsheetImport(models.Model):
    """A donor or gift spreadsheet (CSV/XLSX): upload → column mapping → dry-run
    preview → confirm (all or nothing). Keeps who/when/file hash/counts as the
    import history."""

    class Kind(models.TextChoices):
        DONORS = "donors", _("Donors")
        GIFTS = "gifts", _("Gifts")

    class Status(models.TextChoices):
        READING = "reading", _("Reading the file")
        REFUSED = "refused", _("Refused")
        MAPPING = "mapping", _("Choose columns")
        CHECKING = "checking", _("Checking (dry run)")
        PREVIEW = "preview", _("Ready to confirm")
        INVALID = "invalid", _("Has errors")
        APPLYING = "applying", _("Applying")
        APPLIED = "applied", _("Applied")
        FAILED = "failed", _("Failed")
        ABANDONED = "abandoned", _("Abandoned")

    kind = models.CharField(_("what"), max_length=8, choices=Kind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("imported by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    file_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64, db_index=True)
    upload = models.FileField(
        upload_to=RandomName("imports/spreadsheets"), storage=private_storage
    )
    file_format = models.CharField(_("file format"), max_length=4)
    encoding = models.CharField(_("encoding"), max_length=10, blank=True)
    headers = models.JSONField(_("columns in the file"), default=list)
    # The first rows as text, kept when the file is read so the column-mapping
    # page never reads the file again.
    sample = models.JSONField(_("first rows"), default=list)
    mapping = models.JSONField(_("column mapping"), default=dict)
    defaults = models.JSONField(_("defaults for blank cells"), default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.MAPPING
    )
    total_rows = models.PositiveIntegerField(default=0)
    counts = models.JSONField(_("counts"), default=dict)
    rows = models.JSONField(_("preview rows"), default=list)
    errors = models.JSONField(_("errors"), default=list)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("applied by"),
    )
    # As ImportBatch.heartbeat_at: reading, checking or applying with no sign
    # of life for a lease means the task stopped.
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)

    class Meta:
        verbose_name = _("spreadsheet import")
        ordering = ["-created_at", "-id"]
        # Applying records gifts and changes donors: Finance and Admin.
        permissions = [("apply_spreadsheetimport", "Can apply a spreadsheet import")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_kind_display()})"
