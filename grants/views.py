"""Staff screens for funds: list with balances, detail with movements, create and
edit (Wagtail admin). Balances and movements come from ``grants.selectors``.

Permissions: ``grants.view_fund`` to see, ``grants.add_fund`` / ``change_fund``
(Finance, Admin) to create and edit. Fund screens show ledger entries and who
posted them, never donors.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views.generic import IndexView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import HeaderButton

from grants.forms import FundForm, PeriodForm
from grants.models import Fund
from grants.selectors import (
    fund_balance,
    fund_list_with_balances,
    fund_movement_summary,
    fund_movements,
)
from kyosei.money import Money, format_yen
from kyosei.viewsets import KeptRecordViewSet

MOVEMENTS_SHOWN = 500


def yen(amount: int | None) -> Money:
    return Money.yen(amount or 0)


class YenColumn(Column):
    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["value"] = format_yen(context["raw_value"] or 0)
        return context


class FundIndexView(IndexView):
    default_ordering = "name"
    page_title = gettext_lazy("Funds")

    def get_base_queryset(self) -> QuerySet[Fund]:
        return fund_list_with_balances()

    @cached_property
    def columns(self):
        return [
            TitleColumn(
                "name",
                label=_("Name"),
                get_url=lambda f: reverse("funds:detail", args=[f.pk]),
                sort_key="name",
            ),
            Column("code", label=_("Code"), sort_key="code"),
            Column("kind", label=_("Kind"), accessor="get_kind_display"),
            YenColumn("balance", label=_("Balance"), sort_key="balance"),
            DateColumn("end_date", label=_("Ends"), sort_key="end_date"),
            DateColumn("closed_on", label=_("Closed"), sort_key="closed_on"),
        ]


def _fiscal_year(request) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    try:
        from kyosei.models import OrganisationProfile

        profile = OrganisationProfile.for_request(request)
        return profile.fiscal_year_bounds(profile.fiscal_year_of(today))
    except Exception:  # noqa: BLE001 - no site/profile yet: calendar year
        return dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)


class FundDetailView(WagtailAdminTemplateMixin, TemplateView):
    """A fund's balance, the period's opening/increase/decrease/closing and its
    ledger entries. Needs ``grants.view_fund``."""

    template_name = "grants/admin/fund_detail.html"
    header_icon = "table"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm("grants.view_fund"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def fund(self) -> Fund:
        return get_object_or_404(Fund, pk=self.kwargs["pk"])

    def get_page_title(self) -> str:
        return self.fund.name

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("funds:index"), "label": _("Funds")},
            {"url": "", "label": self.fund.name},
        ]

    @cached_property
    def header_buttons(self):
        if not self.request.user.has_perm("grants.change_fund"):
            return []
        return [
            HeaderButton(
                _("Edit"),
                url=reverse("funds:edit", args=[self.fund.pk]),
                icon_name="edit",
            )
        ]

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(**kwargs)
        # A period that cannot be shown is the request's fault: the page says
        # which date is wrong (and shows the business year meanwhile).
        status = 400 if context["form"].errors else 200
        return self.render_to_response(context, status=status)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        start, end = _fiscal_year(self.request)
        form = PeriodForm(self.request.GET or None)
        if form.is_valid():
            start = form.cleaned_data.get("start") or start
            end = form.cleaned_data.get("end") or end
        elif not form.is_bound:
            form = PeriodForm(initial={"start": start, "end": end})
        summary = fund_movement_summary(self.fund, start=start, end=end)
        movements = fund_movements(self.fund, start=start, end=end)
        count = movements.count()
        rows = list(movements.reverse()[:MOVEMENTS_SHOWN])
        for row in rows:
            row.money = yen(row.amount_yen)
        context.update(
            fund=self.fund,
            form=form,
            start=start,
            end=end,
            balance=yen(fund_balance(self.fund)),
            summary={key: yen(value) for key, value in summary.items()},
            movements=rows,
            movement_count=count,
            truncated=count > MOVEMENTS_SHOWN,
        )
        return context


class FundViewSet(KeptRecordViewSet):
    """Funds: no delete (ledger entries PROTECT them); close a fund instead."""

    model = Fund
    name = "funds"
    icon = "table"
    menu_label = gettext_lazy("Funds")
    menu_order = 210
    add_to_admin_menu = True
    index_view_class = FundIndexView
    form_fields = FundForm.Meta.fields

    def get_form_class(self, for_update: bool = False):
        return FundForm

    def extra_urlpatterns(self) -> list:
        return [path("<int:pk>/", FundDetailView.as_view(), name="detail")]
