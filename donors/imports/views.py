"""Staff screens for transfer imports (Wagtail admin): HTTP and validation only."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from donors.imports import selectors
from donors.imports.errors import BatchError
from donors.imports.forms import UploadForm
from donors.imports.liveness import STEP_READ
from donors.imports.models import ImportBatch
from donors.imports.services import (
    import_batch_abandon,
    import_batch_create,
    import_batch_queue_apply,
    import_batch_retry,
)
from donors.imports.tasks import (
    apply_import_batch,
    stage_import_batch,
    undo_import_batch,
)

VIEW = "donor_imports.view_importbatch"
ADD = "donor_imports.add_importbatch"
UNDO = "donor_imports.undo_importbatch"
# Applying posts money: a Fundraiser may upload and preview, Finance applies.
APPLY = "donor_imports.apply_importbatch"


def needs(permission: str):
    """Deny by default: the view runs only for users holding ``permission``."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


@needs(VIEW)
def index(request):
    return TemplateResponse(
        request,
        "donors/imports/index.html",
        {
            "batches": selectors.batch_list()[:200],
            "can_add": request.user.has_perm(ADD),
            "can_undo": request.user.has_perm(UNDO),
        },
    )


@needs(ADD)
def upload(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            batch = import_batch_create(
                upload=form.cleaned_data["file"],
                format=form.cleaned_data["format"],
                profile=form.cleaned_data["profile"],
                encoding=form.cleaned_data["encoding"],
                fund=form.cleaned_data["fund"],
                user=request.user,
            )
        except BatchError as exc:
            form.add_error(None, str(exc))
        else:
            language = get_language()
            transaction.on_commit(
                lambda: stage_import_batch.delay(batch.pk, language=language)
            )
            return redirect("donor_imports:detail", batch.pk)
    return TemplateResponse(request, "donors/imports/upload.html", {"form": form})


@needs(VIEW)
def detail(request, pk: int):
    batch = get_object_or_404(selectors.batch_list(), pk=pk)
    progress = selectors.batch_progress(batch)
    may_add = request.user.has_perm(ADD)
    context = {
        "batch": batch,
        "progress": progress,
        "stale": progress["stale"],
        "can_retry": may_add
        and (progress["stale"] or batch.status == ImportBatch.Status.FAILED),
        "can_abandon": may_add
        and (
            progress["stale"]
            or batch.status in (ImportBatch.Status.PREVIEW, ImportBatch.Status.FAILED)
        ),
        "can_apply": request.user.has_perm(APPLY)
        and batch.status == ImportBatch.Status.PREVIEW,
        "can_undo": request.user.has_perm(UNDO)
        and batch.status == ImportBatch.Status.APPLIED,
    }
    if batch.status in (
        ImportBatch.Status.PREVIEW,
        ImportBatch.Status.APPLIED,
        ImportBatch.Status.UNDONE,
    ):
        context.update(selectors.batch_preview_rows(batch))
    return TemplateResponse(request, "donors/imports/detail.html", context)


@needs(VIEW)
def progress(request, pk: int):
    batch = get_object_or_404(ImportBatch, pk=pk)
    return JsonResponse(selectors.batch_progress(batch))


@require_POST
@needs(APPLY)
def apply(request, pk: int):
    batch = get_object_or_404(ImportBatch, pk=pk)
    prefix = "row-"
    choices = {
        key[len(prefix) :]: value
        for key, value in request.POST.items()
        if key.startswith(prefix) and key[len(prefix) :].isdigit()
    }
    try:
        batch = import_batch_queue_apply(batch=batch)
    except BatchError as exc:
        messages.error(request, str(exc))
    else:
        user_id, language = request.user.pk, get_language()
        transaction.on_commit(
            lambda: apply_import_batch.delay(
                batch.pk, user_id, choices, language=language
            )
        )
    return redirect("donor_imports:detail", batch.pk)


@require_POST
@needs(UNDO)
def undo(request, pk: int):
    batch = get_object_or_404(ImportBatch, pk=pk)
    if batch.status != ImportBatch.Status.APPLIED:
        messages.error(
            request,
            _("Only an applied import can be undone (this one is %(s)s).")
            % {"s": batch.get_status_display()},
        )
        return redirect("donor_imports:index")
    # Nothing written here, so nothing to wait for: queue it now (eager in the
    # embedded default, where it is done before the page comes back).
    undo_import_batch.delay(batch.pk, request.user.pk, language=get_language())
    batch.refresh_from_db()
    if batch.status == ImportBatch.Status.UNDONE:
        messages.success(
            request, _("Import undone: every gift of it was reversed in the ledger.")
        )
    else:
        messages.success(
            request,
            _(
                "Undoing the import: every gift of it is being reversed in the "
                "ledger. This list shows it as undone when it is done."
            ),
        )
    return redirect("donor_imports:index")


@require_POST
@needs(ADD)
def retry(request, pk: int):
    """Read a failed or stopped batch again, or send a batch whose applying
    stopped back to its preview (nothing was recorded)."""
    batch = get_object_or_404(ImportBatch, pk=pk)
    try:
        step = import_batch_retry(batch=batch, user=request.user)
    except BatchError as exc:
        messages.error(request, str(exc))
    else:
        if step == STEP_READ:
            language = get_language()
            transaction.on_commit(
                lambda: stage_import_batch.delay(batch.pk, language=language)
            )
            messages.success(request, _("The file is being read again."))
        else:
            messages.success(
                request,
                _("Nothing was recorded; check the preview and confirm again."),
            )
    return redirect("donor_imports:detail", batch.pk)


@require_POST
@needs(ADD)
def abandon(request, pk: int):
    """Give up a batch that recorded nothing (ready to confirm, failed or
    stopped)."""
    batch = get_object_or_404(ImportBatch, pk=pk)
    try:
        import_batch_abandon(batch=batch, user=request.user)
    except BatchError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Import abandoned; nothing was recorded."))
    return redirect("donor_imports:detail", batch.pk)
