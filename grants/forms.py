"""Staff forms for funds. Fund rows are configuration; money moves only through
``grants.services.ledger``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.widgets import AdminDateInput

from grants.models import Fund


class FundForm(WagtailAdminModelForm):
    class Meta:
        model = Fund
        fields = ["code", "name", "name_en", "kind", "purpose", "end_date", "closed_on"]
        help_texts = {
            "code": _(
                "A short name without spaces for exports and the books, e.g. "
                "“shelter-2026”. It cannot be changed later."
            ),
            "name": _("The name staff and the board see, e.g. シェルター基金."),
            "kind": _(
                "General: money we may spend on anything. Restricted: money a donor "
                "or funder gave for one purpose only (指定正味財産)."
            ),
            "purpose": _(
                "For a restricted fund: what the money may be spent on, in the "
                "donor's or funder's words."
            ),
            "end_date": _("When the purpose ends (e.g. a grant period), if it does."),
            "closed_on": _(
                "Set only when the fund is finished: a closed fund accepts no new "
                "gifts or costs. Refunds and corrections are still possible."
            ),
        }
        widgets = {
            "end_date": AdminDateInput,
            "closed_on": AdminDateInput,
            "purpose": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and "code" in self.fields:
            # Exports and the ledger's readers refer to funds by code.
            self.fields["code"].disabled = True

    def clean_closed_on(self):
        day = self.cleaned_data.get("closed_on")
        if day and day > timezone.localdate():
            raise forms.ValidationError(_("A fund cannot be closed in the future."))
        return day


class PeriodForm(forms.Form):
    """A period of the books. Dates outside ``EARLIEST``–``LATEST`` are refused:
    the opening balance is taken the day before ``start``, which does not
    exist for 0001-01-01, and no ledger holds such dates anyway."""

    EARLIEST = dt.date(1900, 1, 1)
    LATEST = dt.date(2999, 12, 31)

    start = forms.DateField(label=_("From"), required=False, widget=AdminDateInput)
    end = forms.DateField(label=_("To"), required=False, widget=AdminDateInput)

    def _in_range(self, name: str) -> dt.date | None:
        day = self.cleaned_data.get(name)
        if day is not None and not (self.EARLIEST <= day <= self.LATEST):
            raise forms.ValidationError(
                _("Enter a date between %(first)s and %(last)s.")
                % {"first": self.EARLIEST.isoformat(), "last": self.LATEST.isoformat()}
            )
        return day

    def clean_start(self) -> dt.date | None:
        return self._in_range("start")

    def clean_end(self) -> dt.date | None:
        return self._in_range("end")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", _("The period ends before it starts."))
        return cleaned
