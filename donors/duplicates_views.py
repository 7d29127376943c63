"""Staff screens for duplicate donors: review candidate pairs, merge or dismiss them,
and review past merges. Every view needs ``donors.merge_donor``."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.auth import permission_denied

from donors.duplicates import (
    KEYS,
    DuplicatePair,
    donors_with_giving,
    duplicate_candidates,
    merge_preview,
    pair_reasons,
    pairs_with_donors,
    score_for,
)
from donors.errors import DonorError
from donors.models import Donor, DonorMerge
from donors.services.donors import donor_merge
from donors.services.duplicates import duplicate_dismiss
from kyosei.money import format_yen

PERMISSION = "donors.merge_donor"
PER_PAGE = 20


class _AdminView(TemplateView):
    """A Wagtail admin page that needs ``PERMISSION`` (deny by default)."""

    page_title = ""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any):
        if not request.user.has_perm(PERMISSION):
            return permission_denied(request)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["page_title"] = self.page_title
        context["list_url"] = reverse("donors_duplicates:list")
        context["history_url"] = reverse("donors_duplicates:history")
        return context


def _side(donor: Donor) -> dict[str, Any]:
    """What staff compare: one column of the side-by-side table."""
    language = get_language()
    return {
        "donor": donor,
        "name": donor.display_name("ja"),
        "kana": donor.kana_name,
        "latin": donor.latin_name,
        "email": ", ".join(e for e in (donor.email, donor.email_secondary) if e),
        "phone": donor.phone,
        "address": " ".join(donor.address_lines()),
        "gift_count": getattr(donor, "gift_count", 0),
        "lifetime": format_yen(getattr(donor, "lifetime_yen", 0), language),
        "created_at": donor.created_at,
    }


def _rows(pair: DuplicatePair, left: dict, right: dict) -> list[dict[str, Any]]:
    matched = {
        "email": "email_key" in pair.reasons,
        "phone": "phone_key" in pair.reasons,
        "kana": "kana_postal_key" in pair.reasons,
        "address": "kana_postal_key" in pair.reasons,
        "latin": "latin_country_key" in pair.reasons,
    }
    labels = [
        ("name", _("Name")),
        ("kana", _("Furigana")),
        ("latin", _("Latin name")),
        ("email", _("Email")),
        ("phone", _("Phone")),
        ("address", _("Address")),
        ("gift_count", _("Gifts")),
        ("lifetime", _("Lifetime giving")),
        ("created_at", _("Created")),
    ]
    return [
        {
            "label": label,
            "left": left[field] if left[field] != "" else None,
            "right": right[field] if right[field] != "" else None,
            "matched": matched.get(field, False),
        }
        for field, label in labels
    ]


class DuplicateListView(_AdminView):
    template_name = "donors/duplicates/list.html"
    page_title = gettext_lazy("Possible duplicate donors")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        reason = self.request.GET.get("reason", "")
        pairs = duplicate_candidates()
        if reason in KEYS:
            pairs = [p for p in pairs if reason in p.reasons]
        else:
            reason = ""
        page = Paginator(pairs, PER_PAGE).get_page(self.request.GET.get("p"))
        items = []
        for pair, left, right in pairs_with_donors(list(page.object_list)):
            left_side, right_side = _side(left), _side(right)
            items.append(
                {
                    "pair": pair,
                    "left": left_side,
                    "right": right_side,
                    "rows": _rows(pair, left_side, right_side),
                }
            )
        context.update(
            items=items,
            page_obj=page,
            total=len(pairs),
            reason=reason,
            reasons=[(key, label) for key, (label, _weight) in KEYS.items()],
        )
        return context


class MergeView(_AdminView):
    """GET: what will happen; POST: ``donor_merge`` (survivor keeps its id)."""

    template_name = "donors/duplicates/merge_confirm.html"
    page_title = gettext_lazy("Merge donors")

    def _donors(self) -> tuple[Donor, Donor]:
        survivor_id, merged_id = self.kwargs["survivor"], self.kwargs["merged"]
        if survivor_id == merged_id:
            raise Http404
        donors = donors_with_giving([survivor_id, merged_id])
        if survivor_id not in donors or merged_id not in donors:
            raise Http404
        return donors[survivor_id], donors[merged_id]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        survivor, merged = self._donors()
        if survivor.merged_into_id or merged.merged_into_id:
            messages.error(request, _("One of these donors has already been merged."))
            return redirect("donors_duplicates:list")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        survivor, merged = self._donors()
        reasons = pair_reasons(survivor, merged)
        low, high = sorted((survivor.pk, merged.pk))
        pair = DuplicatePair(low, high, reasons, score_for(reasons))
        survivor_side, merged_side = _side(survivor), _side(merged)
        context.update(
            survivor=survivor_side,
            merged=merged_side,
            pair=pair,
            rows=_rows(pair, survivor_side, merged_side),
            moves=merge_preview(merged),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        survivor, merged = self._donors()
        try:
            record = donor_merge(survivor=survivor, merged=merged, user=request.user)
        except DonorError as exc:
            messages.error(request, str(exc))
            return redirect("donors_duplicates:list")
        messages.success(
            request,
            _("Donor #%(merged)s was merged into #%(survivor)s.")
            % {"merged": record.merged_id, "survivor": record.survivor_id},
        )
        return redirect("donors_duplicates:list")


class DismissView(_AdminView):
    """POST only: the two donors are different people."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        first = get_object_or_404(Donor, pk=kwargs["first"])
        second = get_object_or_404(Donor, pk=kwargs["second"])
        try:
            duplicate_dismiss(
                first=first,
                second=second,
                user=request.user,
                reason=request.POST.get("reason", ""),
            )
        except DonorError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("#%(a)s and #%(b)s will no longer be suggested as duplicates.")
                % {"a": first.pk, "b": second.pk},
            )
        next_url = request.POST.get("next", "")
        if next_url and url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}
        ):
            return redirect(next_url)
        return redirect("donors_duplicates:list")


class MergeHistoryView(_AdminView):
    template_name = "donors/duplicates/history.html"
    page_title = gettext_lazy("Merge history")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        merges = DonorMerge.objects.select_related("survivor", "merged_by").order_by(
            "-merged_at", "-id"
        )
        page = Paginator(merges, PER_PAGE).get_page(self.request.GET.get("p"))
        context["page_obj"] = page
        context["merges"] = [
            {
                "record": record,
                "snapshot_name": _snapshot_name(record.snapshot),
                "snapshot": sorted(
                    (key, value)
                    for key, value in record.snapshot.items()
                    if value not in ("", None, [], False)
                ),
                "moved": sorted(
                    (_model_label(key), value)
                    for key, value in record.moved.items()
                    if key != "filled_fields"
                ),
                "filled": record.moved.get("filled_fields", []),
            }
            for record in page.object_list
        ]
        return context


def _model_label(label: str) -> str:
    try:
        return str(apps.get_model(label)._meta.verbose_name_plural)
    except (LookupError, ValueError):
        return label


def _snapshot_name(snapshot: dict[str, Any]) -> str:
    japanese = " ".join(
        str(snapshot.get(k) or "") for k in ("family_name", "given_name")
    ).strip()
    return (
        japanese
        or snapshot.get("organisation_name")
        or snapshot.get("latin_name")
        or f"#{snapshot.get('id')}"
    )


app_name = "donors_duplicates"
urlpatterns = [
    path("", DuplicateListView.as_view(), name="list"),
    path(
        "merge/<int:survivor>/<int:merged>/",
        MergeView.as_view(),
        name="merge",
    ),
    path(
        "dismiss/<int:first>/<int:second>/",
        DismissView.as_view(),
        name="dismiss",
    ),
    path("history/", MergeHistoryView.as_view(), name="history"),
]
