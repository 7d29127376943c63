"""Requests donors make through the portal that staff act on."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from donors.models import Donor


class DeletionRequest(models.Model):
    """ "Delete my account": a task for staff.

    Processing it (``deletion_request_process``) anonymises the donor's personal
    data; gifts and issued receipts are kept, as the law requires (donor register
    5 years, 電子帳簿保存法). One open request per donor at a time.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done (personal data removed)")
        REJECTED = "rejected", _("Rejected")

    donor = models.ForeignKey(
        Donor,
        on_delete=models.PROTECT,
        related_name="deletion_requests",
        verbose_name=_("donor"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    reason = models.TextField(_("reason given by the donor"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    processed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("processed by"),
    )
    staff_note = models.TextField(_("staff note"), blank=True)

    class Meta:
        verbose_name = _("account deletion request")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("process_deletionrequest", "Can process account deletion requests"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["donor"],
                condition=models.Q(status="open"),
                name="deletion_request_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} donor #{self.donor_id} ({self.status})"
