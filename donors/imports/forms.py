from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from donors.imports.models import ImportBatch, TransferProfile
from donors.imports.readers.common import DEFAULT_MAX_BYTES
from grants.models import Fund


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Statement file"))
    format = forms.ChoiceField(label=_("Format"), choices=ImportBatch.Format.choices)
    profile = forms.ModelChoiceField(
        label=_("CSV profile"),
        queryset=TransferProfile.objects.all(),
        required=False,
        help_text=_("Needed for CSV statements: which bank's column layout."),
    )
    encoding = forms.ChoiceField(
        label=_("Encoding"),
        choices=TransferProfile.Encoding.choices,
        initial=TransferProfile.Encoding.AUTO,
    )
    fund = forms.ModelChoiceField(
        label=_("Fund"),
        queryset=Fund.objects.filter(closed_on__isnull=True),
        required=False,
        help_text=_("Leave empty for the general fund."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = int(getattr(settings, "KYOSEI_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB; split the statement by period.")
                % {"mb": limit // 1048576}
            )
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        return upload

    def clean(self):
        data = super().clean()
        if data.get("format") == ImportBatch.Format.CSV and not data.get("profile"):
            self.add_error("profile", _("Choose the CSV profile for this bank."))
        return data
