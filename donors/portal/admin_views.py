"""Staff screens: the donor register download, and account deletion requests.

Permissions (deny by default):
- register: ``donors.view_gift`` **and** ``donors.export_gift`` (Finance, Admin);
- deletion requests: ``donor_portal.view_deletionrequest`` to see them,
  ``donor_portal.process_deletionrequest`` to process or reject them.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.auth import permission_denied

from donors.errors import DonorError
from donors.portal.models import DeletionRequest
from donors.portal.services import deletion_request_process, deletion_request_reject
from donors.register import CONTENT_TYPES, Reason, donor_register, register_export
from kyosei.models import organisation_profile
from kyosei.money import format_yen

REGISTER_PERMISSIONS = ("donors.view_gift", "donors.export_gift")
VIEW_REQUESTS = "donor_portal.view_deletionrequest"
PROCESS_REQUESTS = "donor_portal.process_deletionrequest"


class _AdminView(TemplateView):
    permissions: tuple[str, ...] = ()
    page_title: Any = ""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any):
        if not self.permissions or not request.user.has_perms(self.permissions):
            return permission_denied(request)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["page_title"] = self.page_title
        return context


class RegisterForm(forms.Form):
    fiscal_year = forms.TypedChoiceField(
        label=gettext_lazy("Business year"), coerce=int
    )
    format = forms.ChoiceField(
        label=gettext_lazy("Format"),
        choices=[("xlsx", "Excel (XLSX)"), ("csv", "CSV (UTF-8)")],
        initial="xlsx",
    )
    count_overseas = forms.BooleanField(
        label=gettext_lazy("Count donors with an overseas address"),
        required=False,
        initial=True,
        help_text=gettext_lazy(
            "Unsettled in the law; counted by default. The summary shows both."
        ),
    )

    def __init__(self, *args, years: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fiscal_year"].choices = years
        self.fields["fiscal_year"].initial = years[1][0] if len(years) > 1 else None


def _year_choices() -> list[tuple[int, str]]:
    profile = organisation_profile()
    current = profile.fiscal_year_of(timezone.localdate())
    choices = []
    for year in range(current, current - 7, -1):
        start, end = profile.fiscal_year_bounds(year)
        choices.append((year, f"{year} ({start:%Y-%m-%d} – {end:%Y-%m-%d})"))
    return choices


class RegisterView(_AdminView):
    """Pick a business year, see the absolute-test summary, download the file."""

    permissions = REGISTER_PERMISSIONS
    page_title = gettext_lazy("Donor register (寄附者名簿)")
    template_name = "donors/register/admin.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = RegisterForm(
            request.GET if "fiscal_year" in request.GET else None,
            years=_year_choices(),
        )
        register = None
        if form.is_bound and form.is_valid():
            register = donor_register(
                form.cleaned_data["fiscal_year"],
                count_overseas=form.cleaned_data["count_overseas"],
            )
            if "download" in request.GET:
                fmt = form.cleaned_data["format"]
                with translation.override("ja"):
                    data = register_export(register, fmt)
                response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
                filename = f"donor-register-FY{register.fiscal_year}.{fmt}"
                response["Content-Disposition"] = f'attachment; filename="{filename}"'
                return response
        context = self.get_context_data(form=form, register=register)
        if register is not None:
            context["total"] = format_yen(register.total_yen)
            context["reasons"] = [
                (str(label), register.reasons.get(key, 0))
                for key, label in Reason.LABELS.items()
            ]
        return self.render_to_response(context)


class DeletionRequestList(_AdminView):
    permissions = (VIEW_REQUESTS,)
    page_title = gettext_lazy("Account deletion requests")
    template_name = "donors/portal/admin/deletion_requests.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        requests = DeletionRequest.objects.select_related("donor", "processed_by")
        context["open_requests"] = requests.filter(
            status=DeletionRequest.Status.OPEN
        ).order_by("created_at")
        context["closed_requests"] = requests.exclude(
            status=DeletionRequest.Status.OPEN
        ).order_by("-processed_at")[:50]
        return context


class DeletionRequestDetail(_AdminView):
    permissions = (VIEW_REQUESTS,)
    page_title = gettext_lazy("Account deletion request")
    template_name = "donors/portal/admin/deletion_request.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        item = get_object_or_404(
            DeletionRequest.objects.select_related("donor"), pk=self.kwargs["pk"]
        )
        context["item"] = item
        context["can_process"] = self.request.user.has_perm(PROCESS_REQUESTS)
        context["gift_count"] = item.donor.gifts.count()
        return context

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.has_perm(PROCESS_REQUESTS):
            return permission_denied(request)
        item = get_object_or_404(DeletionRequest, pk=pk)
        note = request.POST.get("staff_note", "")
        try:
            if request.POST.get("action") == "process":
                deletion_request_process(
                    deletion_request=item, user=request.user, staff_note=note
                )
                messages.success(
                    request,
                    _("Donor #%(id)s was anonymised; gifts and receipts are kept.")
                    % {"id": item.donor_id},
                )
            elif request.POST.get("action") == "reject":
                deletion_request_reject(
                    deletion_request=item, user=request.user, staff_note=note
                )
                messages.success(request, _("The request was rejected."))
            else:
                messages.error(request, _("Unknown action."))
        except DonorError as exc:
            messages.error(request, str(exc))
            return redirect("donor_portal_admin:deletion_request", pk=pk)
        return redirect("donor_portal_admin:deletion_requests")


app_name = "donor_portal_admin"
urlpatterns = [
    path("register/", RegisterView.as_view(), name="register"),
    path(
        "deletion-requests/",
        DeletionRequestList.as_view(),
        name="deletion_requests",
    ),
    path(
        "deletion-requests/<int:pk>/",
        DeletionRequestDetail.as_view(),
        name="deletion_request",
    ),
]
