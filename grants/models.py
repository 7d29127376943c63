"""Funds and the append-only fund ledger: the single source of truth for money."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class Account(models.TextChoices):
    """NPO法人会計基準 accounts of the 活動計算書. Income posts positive yen to a
    fund, costs negative."""

    MEMBERSHIP_DUES = "dues", "受取会費"
    DONATIONS = "donations", "受取寄付金"
    GRANTS = "grants", "受取助成金等"
    PROGRAMME_REVENUE = "programme_revenue", "事業収益"
    OTHER_INCOME = "other_income", "その他収益"
    PROGRAMME_STAFF = "programme_staff", "事業費・人件費"
    PROGRAMME_OTHER = "programme_other", "事業費・その他経費"
    ADMIN_STAFF = "admin_staff", "管理費・人件費"
    ADMIN_OTHER = "admin_other", "管理費・その他経費"
    EXTRAORDINARY = "extraordinary", "経常外"


INCOME_ACCOUNTS = {
    Account.MEMBERSHIP_DUES,
    Account.DONATIONS,
    Account.GRANTS,
    Account.PROGRAMME_REVENUE,
    Account.OTHER_INCOME,
}


class Fund(models.Model):
    class Kind(models.TextChoices):
        GENERAL = "general", _("General (一般)")
        RESTRICTED = "restricted", _("Restricted (指定)")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    purpose = models.TextField(
        _("purpose / restriction"),
        blank=True,
        help_text=_("For a restricted fund: what the money may be spent on."),
    )
    end_date = models.DateField(_("end date"), null=True, blank=True)
    closed_on = models.DateField(
        _("closed on"),
        null=True,
        blank=True,
        help_text=_("A closed fund accepts no new postings."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("fund")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_restricted(self) -> bool:
        return self.kind == self.Kind.RESTRICTED


class BudgetLine(models.Model):
    """A line of a grant's budget; the grants capability fills in the rules."""

    fund = models.ForeignKey(
        Fund, on_delete=models.PROTECT, related_name="budget_lines"
    )
    name = models.CharField(_("name"), max_length=200)
    amount_yen = models.BigIntegerField(_("budget (yen)"), default=0)

    class Meta:
        verbose_name = _("budget line")

    def __str__(self) -> str:
        return f"{self.fund} / {self.name}"


class AppendOnlyError(Exception):
    """Ledger rows are never changed or deleted; post a reversing entry instead."""


class LedgerEntry(models.Model):
    """One signed yen amount on one fund. Append-only: a database trigger refuses
    UPDATE and DELETE (migration ``0002``), and ``save``/``delete`` refuse too."""

    entry_date = models.DateField(_("date"))
    # No single-column indexes on fund and source_type: ledger_fund_date_amount
    # leads with fund, nothing searches by source, and bulk imports pay for
    # every index.
    fund = models.ForeignKey(
        Fund, on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    account = models.CharField(_("account"), max_length=20, choices=Account.choices)
    amount_yen = models.BigIntegerField(_("amount (yen)"))
    # budget_line, reverses and posted_by: partial indexes in Meta (most entries
    # have none, and an import posts 100,000 entries at once).
    budget_line = models.ForeignKey(
        BudgetLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # With source_id, a generic link to what the entry came from; like
    # source_id, no database constraint (PostgreSQL checked it row by row at
    # commit, ~0.5 s of a 100,000-row import). Content types are never deleted
    # while entries use them: PROTECT still applies in the ORM, and the
    # append-only trigger refuses to delete entries.
    source_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    source_id = models.CharField(max_length=64, blank=True)
    memo = models.CharField(_("memo"), max_length=300, blank=True)
    reverses = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversals",
        verbose_name=_("reverses"),
        db_index=False,
    )
    override_reason = models.CharField(max_length=300, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    posted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        permissions = [("override_ledgerentry", "Can override budget rules")]
        indexes = [
            models.Index(
                fields=["fund", "entry_date"],
                include=["amount_yen"],
                name="ledger_fund_date_amount",
            ),
            # No index on (source_type, source_id): nothing looks entries up by
            # their source (a gift or refund points at its entry), and every
            # index costs each 100,000-row import ~0.25 s. Add one with the
            # first query that needs it.
            *(
                models.Index(
                    fields=[name],
                    condition=models.Q(**{f"{name}__isnull": False}),
                    name=f"ledger_{name}",
                )
                for name in ("budget_line", "reverses", "posted_by")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(amount_yen=0), name="ledger_amount_not_zero"
            )
        ]

    def __str__(self) -> str:
        return f"{self.entry_date} {self.fund} {self.amount_yen:+,}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("Ledger entries cannot be changed; reverse them.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Ledger entries cannot be deleted; reverse them.")
