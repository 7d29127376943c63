"""Forms for spreadsheet imports: HTTP validation only."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from donors.imports.models import SpreadsheetImport
from donors.imports.readers.common import max_bytes
from donors.imports.spreadsheets import TARGETS
from donors.models import Gift
from grants.models import Fund


class SpreadsheetUploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What the sheet holds"), choices=SpreadsheetImport.Kind.choices
    )
    file = forms.FileField(
        label=_("Spreadsheet"),
        help_text=_("CSV (UTF-8 or Shift_JIS) or Excel .xlsx; row 1 is the header."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        if upload.size > max_bytes():
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB; split it into smaller files.")
                % {"mb": max_bytes() // 1048576}
            )
        return upload


class MappingForm(forms.Form):
    """One choice per column of the file; gift sheets also get defaults for
    blank cells (fund, kind, method, currency)."""

    def __init__(self, *args, record: SpreadsheetImport, **kwargs):
        super().__init__(*args, **kwargs)
        self.record = record
        choices = [("", _("— do not import —"))] + [
            (t.name, f"{t.label} ({t.name})") for t in TARGETS[record.kind]
        ]
        self.columns: list[tuple[str, str]] = []
        for index, header in enumerate(record.headers):
            if not header:
                continue
            name = f"col_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header,
                choices=choices,
                required=False,
                initial=record.mapping.get(header, ""),
            )
            # The first rows' cells of this column, shown beside the choice.
            self.fields[name].sample = " · ".join(
                row[index][:30] for row in record.sample if index < len(row)
            )
            self.columns.append((name, header))
        if record.kind == SpreadsheetImport.Kind.GIFTS:
            defaults = record.defaults or {}
            self.fields["default_fund"] = forms.ModelChoiceField(
                label=_("Fund for rows without one"),
                queryset=Fund.objects.filter(closed_on__isnull=True),
                to_field_name="code",
                required=False,
                initial=defaults.get("fund", "general"),
            )
            self.fields["default_kind"] = forms.ChoiceField(
                label=_("Kind for rows without one"),
                choices=[("", "—")] + list(Gift.Kind.choices),
                required=False,
                initial=defaults.get("kind", Gift.Kind.DONATION),
            )
            self.fields["default_method"] = forms.ChoiceField(
                label=_("Method for rows without one"),
                choices=[("", "—")] + list(Gift.Method.choices),
                required=False,
                initial=defaults.get("method", Gift.Method.BANK_TRANSFER),
            )
            self.fields["default_currency"] = forms.CharField(
                label=_("Currency for rows without one"),
                required=False,
                max_length=3,
                initial=defaults.get("currency", "JPY"),
            )

    def mapping(self) -> dict[str, str]:
        return {
            header: self.cleaned_data.get(name) or ""
            for name, header in self.columns
            if self.cleaned_data.get(name)
        }

    def defaults(self) -> dict[str, str]:
        if self.record.kind != SpreadsheetImport.Kind.GIFTS:
            return {}
        fund = self.cleaned_data.get("default_fund")
        return {
            "fund": fund.code if fund else "",
            "kind": self.cleaned_data.get("default_kind") or "",
            "method": self.cleaned_data.get("default_method") or "",
            "currency": (self.cleaned_data.get("default_currency") or "").upper(),
        }
