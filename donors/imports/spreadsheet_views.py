"""Staff screens for donor and gift spreadsheets (Wagtail admin): HTTP only.

Permissions: ``donor_imports.view_spreadsheetimport`` to see the history and
previews; ``donor_imports.add_spreadsheetimport`` to upload and map, and
``donor_imports.apply_spreadsheetimport`` to confirm (applying posts money:
Finance, not a Fundraiser), each plus ``donors.change_donor`` for a donor sheet or
``donors.add_gift`` for a gift sheet.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from donors.imports import spreadsheet_selectors as selectors
from donors.imports.errors import BatchError
from donors.imports.liveness import STEP_CHECK, STEP_READ
from donors.imports.models import SpreadsheetImport
from donors.imports.spreadsheet_forms import MappingForm, SpreadsheetUploadForm
from donors.imports.spreadsheet_services import (
    ABANDONABLE,
    spreadsheet_abandon,
    spreadsheet_map,
    spreadsheet_queue_apply,
    spreadsheet_retry,
    spreadsheet_upload,
)
from donors.imports.spreadsheet_tasks import (
    apply_spreadsheet,
    check_spreadsheet,
    read_spreadsheet,
)
from donors.imports.spreadsheets import SpreadsheetRefused, error_text
from donors.imports.views import needs

VIEW = "donor_imports.view_spreadsheetimport"
ADD = "donor_imports.add_spreadsheetimport"
MAPPABLE = (
    SpreadsheetImport.Status.MAPPING,
    SpreadsheetImport.Status.PREVIEW,
    SpreadsheetImport.Status.INVALID,
)
APPLY = "donor_imports.apply_spreadsheetimport"
KIND_PERMISSION = {
    SpreadsheetImport.Kind.DONORS: "donors.change_donor",
    SpreadsheetImport.Kind.GIFTS: "donors.add_gift",
}


def may_import(user, kind: str) -> bool:
    return user.has_perm(ADD) and user.has_perm(KIND_PERMISSION[kind])


def may_apply(user, kind: str) -> bool:
    return user.has_perm(APPLY) and user.has_perm(KIND_PERMISSION[kind])


def _record_for_change(request, pk: int, *, apply: bool = False) -> SpreadsheetImport:
    record = get_object_or_404(SpreadsheetImport, pk=pk)
    allowed = may_apply if apply else may_import
    if not allowed(request.user, record.kind):
        raise PermissionDenied
    return record


@needs(VIEW)
def index(request):
    return TemplateResponse(
        request,
        "donors/imports/spreadsheet_index.html",
        {
            "records": selectors.spreadsheet_list()[:200],
            "can_add": request.user.has_perm(ADD),
        },
    )


@needs(ADD)
def upload(request):
    form = SpreadsheetUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["kind"]
        if not may_import(request.user, kind):
            raise PermissionDenied
        try:
            record = spreadsheet_upload(
                upload=form.cleaned_data["file"], kind=kind, user=request.user
            )
        except BatchError as exc:
            form.add_error("file", str(exc))
        else:
            # Read by the task, never here. With eager tasks (the embedded
            # default) it has run by now and the mapping step can open at once.
            record_id, language = record.pk, get_language()
            transaction.on_commit(
                lambda: read_spreadsheet.delay(record_id, language=language)
            )
            record.refresh_from_db()
            if record.status == SpreadsheetImport.Status.MAPPING:
                return redirect("donor_imports:spreadsheet_map", record.pk)
            return redirect("donor_imports:spreadsheet_detail", record.pk)
    return TemplateResponse(
        request, "donors/imports/spreadsheet_upload.html", {"form": form}
    )


@needs(ADD)
def mapping(request, pk: int):
    record = _record_for_change(request, pk)
    if record.status not in MAPPABLE:
        messages.error(
            request,
            _("This import is %(s)s; its columns cannot be chosen now.")
            % {"s": record.get_status_display()},
        )
        return redirect("donor_imports:spreadsheet_detail", record.pk)
    form = MappingForm(request.POST or None, record=record)
    if request.method == "POST" and form.is_valid():
        try:
            record = spreadsheet_map(
                record=record, mapping=form.mapping(), defaults=form.defaults()
            )
        except SpreadsheetRefused as exc:
            for error in exc.errors:
                form.add_error(None, error_text(error))
        except BatchError as exc:
            form.add_error(None, str(exc))
        else:
            record_id, language = record.pk, get_language()
            transaction.on_commit(
                lambda: check_spreadsheet.delay(record_id, language=language)
            )
            return redirect("donor_imports:spreadsheet_detail", record.pk)
    return TemplateResponse(
        request,
        "donors/imports/spreadsheet_map.html",
        {"record": record, "form": form, "sample": record.sample},
    )


@needs(VIEW)
def detail(request, pk: int):
    record = get_object_or_404(selectors.spreadsheet_list(), pk=pk)
    can_change = may_import(request.user, record.kind)
    progress = selectors.spreadsheet_progress(record)
    stale = progress["stale"]
    return TemplateResponse(
        request,
        "donors/imports/spreadsheet_detail.html",
        {
            "record": record,
            "progress": progress,
            "stale": stale,
            "can_confirm": may_apply(request.user, record.kind)
            and record.status == SpreadsheetImport.Status.PREVIEW,
            "can_remap": can_change and record.status in MAPPABLE,
            "can_retry": can_change
            and (stale or record.status == SpreadsheetImport.Status.FAILED),
            "can_abandon": can_change and (stale or record.status in ABANDONABLE),
            "earlier": selectors.spreadsheet_same_file_applied(record),
        },
    )


@needs(VIEW)
def progress(request, pk: int):
    record = get_object_or_404(SpreadsheetImport, pk=pk)
    return JsonResponse(selectors.spreadsheet_progress(record))


@require_POST
@needs(APPLY)
def confirm(request, pk: int):
    record = _record_for_change(request, pk, apply=True)
    try:
        record = spreadsheet_queue_apply(record=record)
    except BatchError as exc:
        messages.error(request, str(exc))
    else:
        record_id, user_id, language = record.pk, request.user.pk, get_language()
        transaction.on_commit(
            lambda: apply_spreadsheet.delay(record_id, user_id, language=language)
        )
        messages.success(request, _("Import confirmed; it is being applied."))
    return redirect("donor_imports:spreadsheet_detail", record.pk)


@require_POST
@needs(ADD)
def retry(request, pk: int):
    """Read or check a failed or stopped import again, or send one whose
    applying stopped back to its preview (nothing was recorded)."""
    record = _record_for_change(request, pk)
    try:
        step = spreadsheet_retry(record=record, user=request.user)
    except BatchError as exc:
        messages.error(request, str(exc))
    else:
        task = {STEP_READ: read_spreadsheet, STEP_CHECK: check_spreadsheet}.get(step)
        if task is not None:
            language = get_language()
            transaction.on_commit(lambda: task.delay(record.pk, language=language))
            messages.success(request, _("Trying again."))
        else:
            messages.success(
                request,
                _("Nothing was recorded; check the preview and confirm again."),
            )
    return redirect("donor_imports:spreadsheet_detail", record.pk)


@require_POST
@needs(ADD)
def abandon(request, pk: int):
    """Give up an import that recorded nothing and is not running."""
    record = _record_for_change(request, pk)
    try:
        spreadsheet_abandon(record=record, user=request.user)
    except BatchError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Import abandoned; nothing was recorded."))
    return redirect("donor_imports:spreadsheet_detail", record.pk)
