"""Staff screens for receipts (Wagtail admin): list and search, detail with the
PDF, issue / reissue / void, emails sent, and the annual batch with progress.

Each view states its permission (deny by default): ``receipts.view_receipt`` to
see, ``receipts.issue_receipt`` to issue, reissue and run the batch,
``receipts.void_receipt`` to void, ``receipts.view_receiptemail`` for emails.
HTTP and validation only; every change goes through ``donors.receipts.services``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django import forms
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from wagtail.admin import messages
from wagtail.admin.auth import permission_denied

from donors.models import Gift
from donors.receipts.errors import ReceiptError
from donors.receipts.models import Receipt, ReceiptEmail
from donors.receipts.selectors import receipt_email_list, receipt_list
from donors.receipts.services import (
    receipt_issue_single,
    receipt_reissue,
    receipt_void,
)
from kyosei.private_files import private_file_response

app_name = "receipts"
PER_PAGE = 50


def needs(permission: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.has_perm(permission):
                return permission_denied(request)
            return view(request, *args, **kwargs)

        wrapper.permission_required = permission  # type: ignore[attr-defined]
        return wrapper

    return decorator


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300)


class IssueForm(forms.Form):
    gift = forms.IntegerField(label=gettext_lazy("Gift number"), min_value=1)


class BatchForm(forms.Form):
    year = forms.IntegerField(
        label=gettext_lazy("Calendar year"), min_value=2000, max_value=2100
    )
    dry_run = forms.BooleanField(label=gettext_lazy("Dry run"), required=False)


@needs("receipts.view_receipt")
def receipt_index(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    status = request.GET.get("status", "")
    if status not in Receipt.Status.values:
        status = ""
    page = Paginator(receipt_list(search=query, status=status), PER_PAGE).get_page(
        request.GET.get("p")
    )
    return render(
        request,
        "donors/receipts/index.html",
        {
            "page_title": _("Receipts"),
            "page": page,
            "query": query,
            "status": status,
            "statuses": Receipt.Status.choices,
            "issue_form": IssueForm(),
            "can_issue": request.user.has_perm("receipts.issue_receipt"),
        },
    )


@needs("receipts.view_receipt")
def receipt_detail(request: HttpRequest, pk: int) -> HttpResponse:
    receipt = get_object_or_404(
        Receipt.objects.select_related("donor", "replaces", "issued_by", "voided_by"),
        pk=pk,
    )
    return render(
        request,
        "donors/receipts/detail.html",
        {
            "page_title": _("Receipt %(n)s") % {"n": receipt.number},
            "receipt": receipt,
            "lines": receipt.lines.select_related("gift"),
            "emails": receipt.emails.all(),
            "replaced_by": Receipt.objects.filter(replaces=receipt).first(),
            "intact": receipt.pdf_is_intact(),
            "reason_form": ReasonForm(),
            "can_issue": request.user.has_perm("receipts.issue_receipt")
            and receipt.is_valid,
            "can_void": request.user.has_perm("receipts.void_receipt")
            and receipt.is_valid,
        },
    )


@needs("receipts.view_receipt")
def receipt_pdf(request: HttpRequest, pk: int) -> FileResponse:
    """The stored PDF from the private storage (void receipts too: staff keep
    every issued document)."""
    receipt = get_object_or_404(Receipt, pk=pk)
    return private_file_response(
        receipt.pdf,
        filename=f"receipt-{receipt.number}.pdf",
        content_type="application/pdf",
    )


@require_POST
@needs("receipts.issue_receipt")
def receipt_issue(request: HttpRequest) -> HttpResponse:
    form = IssueForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the number of a gift."))
        return redirect("receipts:index")
    gift = Gift.objects.filter(pk=form.cleaned_data["gift"]).first()
    if gift is None:
        messages.error(
            request, _("There is no gift %(id)s.") % {"id": form.data["gift"]}
        )
        return redirect("receipts:index")
    try:
        receipt = receipt_issue_single(gift=gift, user=request.user)
    except ReceiptError as exc:
        messages.error(request, str(exc))
        return redirect("receipts:index")
    messages.success(request, _("Receipt %(n)s issued.") % {"n": receipt.number})
    return redirect("receipts:detail", receipt.pk)


def _with_reason(
    request: HttpRequest, pk: int, action: Callable[[Receipt, str], Receipt], done: str
) -> HttpResponse:
    receipt = get_object_or_404(Receipt, pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason."))
        return redirect("receipts:detail", receipt.pk)
    try:
        result = action(receipt, form.cleaned_data["reason"])
    except ReceiptError as exc:
        messages.error(request, str(exc))
        return redirect("receipts:detail", receipt.pk)
    messages.success(request, done % {"n": result.number})
    return redirect("receipts:detail", result.pk)


@require_POST
@needs("receipts.issue_receipt")
def receipt_reissue_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _with_reason(
        request,
        pk,
        lambda receipt, reason: receipt_reissue(
            receipt=receipt, user=request.user, reason=reason
        ),
        _("Reissued as %(n)s; the earlier receipt is void."),
    )


@require_POST
@needs("receipts.void_receipt")
def receipt_void_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _with_reason(
        request,
        pk,
        lambda receipt, reason: receipt_void(
            receipt=receipt, user=request.user, reason=reason
        ),
        _("Receipt %(n)s voided."),
    )


@needs("receipts.view_receiptemail")
def email_index(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in ReceiptEmail.Status.values:
        status = ""
    page = Paginator(receipt_email_list(status=status), PER_PAGE).get_page(
        request.GET.get("p")
    )
    return render(
        request,
        "donors/receipts/emails.html",
        {
            "page_title": _("Receipt emails"),
            "page": page,
            "status": status,
            "statuses": ReceiptEmail.Status.choices,
        },
    )


def progress_key(year: int) -> str:
    return f"receipts:annual-batch:{year}"


@needs("receipts.issue_receipt")
def annual_batch(request: HttpRequest) -> HttpResponse:
    from donors.receipts.tasks import run_annual_batch

    year = timezone.localdate().year - 1
    form = BatchForm(request.POST or None, initial={"year": year})
    if request.method == "POST" and form.is_valid():
        year = form.cleaned_data["year"]
        dry_run = form.cleaned_data["dry_run"]
        cache.set(progress_key(year), {"year": year, "started": True}, 86400)
        transaction.on_commit(
            lambda: run_annual_batch.delay(year, request.user.pk, dry_run)
        )
        return redirect(f"{reverse('receipts:batch')}?year={year}")
    shown = request.GET.get("year", "")
    return render(
        request,
        "donors/receipts/batch.html",
        {
            "page_title": _("Annual receipts"),
            "form": form,
            "year": shown if shown.isdigit() else "",
        },
    )


@needs("receipts.issue_receipt")
def annual_batch_progress(request: HttpRequest) -> JsonResponse:
    year = request.GET.get("year", "")
    if not year.isdigit():
        return JsonResponse({"error": "year"}, status=400)
    return JsonResponse(cache.get(progress_key(int(year))) or {"year": int(year)})


urlpatterns = [
    path("", receipt_index, name="index"),
    path("issue/", receipt_issue, name="issue"),
    path("<int:pk>/", receipt_detail, name="detail"),
    path("<int:pk>/pdf/", receipt_pdf, name="pdf"),
    path("<int:pk>/reissue/", receipt_reissue_view, name="reissue"),
    path("<int:pk>/void/", receipt_void_view, name="void"),
    path("emails/", email_index, name="emails"),
    path("annual/", annual_batch, name="batch"),
    path("annual/progress/", annual_batch_progress, name="batch_progress"),
]
