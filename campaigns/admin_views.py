"""Staff screens for online giving (Wagtail admin): Stripe webhook events with
their status and payload (retry failed ones), donation intents, and the Stripe
reconciliation runs (run one now).

Each view states its permission; nothing here changes money: a retry only puts
the event back through ``stripe_event_process``.
"""

from __future__ import annotations

import json
from typing import Any

import django_filters
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views.generic import IndexView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import HeaderButton
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from campaigns.errors import GatewayError
from campaigns.models import DonationIntent, ReconciliationRun, StripeEvent
from campaigns.services.stripe_events import stripe_event_retry


class ReadOnlyPolicy(ModelPermissionPolicy):
    """View only: these rows are written by Stripe events, never by hand."""

    def user_has_permission(self, user, action):
        if action in ("add", "change", "delete"):
            return False
        return super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, a) for a in actions)


register_permission_policy(StripeEvent, ReadOnlyPolicy(StripeEvent))
register_permission_policy(DonationIntent, ReadOnlyPolicy(DonationIntent))
register_permission_policy(ReconciliationRun, ReadOnlyPolicy(ReconciliationRun))


class ProcessRecordViewSet(ModelViewSet):
    """Rows written by processes (Stripe, the beat), never by hand: an index and,
    if ``detail_view_class`` is set, a detail page; no add, edit or delete."""

    form_fields: list[str] = []
    copy_view_enabled = False
    inspect_view_enabled = False
    add_to_reference_index = False
    detail_view_class: type | None = None

    def get_common_view_kwargs(self, **kwargs):
        detail = self.get_url_name("detail") if self.detail_view_class else None
        return super().get_common_view_kwargs(
            add_url_name=None,
            edit_url_name=detail,
            delete_url_name=None,
            usage_url_name=None,
            history_url_name=None,
            **kwargs,
        )

    def extra_urlpatterns(self) -> list:
        return []

    def get_urlpatterns(self):
        detail = (
            [path("<int:pk>/", self.detail_view_class.as_view(), name="detail")]
            if self.detail_view_class
            else []
        )
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            *detail,
            *self.extra_urlpatterns(),
        ]


class StaffTemplateView(WagtailAdminTemplateMixin, TemplateView):
    """An admin page that needs one permission (``permission_required``)."""

    permission_required = ""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(self.permission_required):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class StripeEventFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(
        choices=StripeEvent.Status.choices, label=gettext_lazy("Status")
    )
    type = django_filters.CharFilter(
        lookup_expr="startswith", label=gettext_lazy("Type")
    )

    class Meta:
        model = StripeEvent
        fields = ["status", "type"]


class StripeEventIndexView(IndexView):
    filterset_class = StripeEventFilterSet
    default_ordering = "-received_at"
    page_title = gettext_lazy("Stripe events")
    any_permission_required = ["view"]
    search_fields = ["stripe_id", "object_ref", "type"]

    def get_base_queryset(self) -> QuerySet[StripeEvent]:
        return StripeEvent.objects.defer("payload")

    def get_edit_url(self, instance: StripeEvent) -> str:
        return reverse("stripe_events:detail", args=[instance.pk])

    @cached_property
    def columns(self):
        return [
            TitleColumn(
                "stripe_id",
                label=_("Event"),
                get_url=lambda e: reverse("stripe_events:detail", args=[e.pk]),
            ),
            Column("type", label=_("Type")),
            Column("status", label=_("Status"), accessor="get_status_display"),
            Column("attempts", label=_("Attempts")),
            Column("object_ref", label=_("Object")),
            DateColumn("received_at", label=_("Received"), sort_key="received_at"),
            Column("error", label=_("Error / note")),
        ]


class StripeEventDetailView(StaffTemplateView):
    template_name = "campaigns/admin/stripe_event_detail.html"
    header_icon = "cogs"
    permission_required = "campaigns.view_stripeevent"

    @cached_property
    def event(self) -> StripeEvent:
        return get_object_or_404(StripeEvent, pk=self.kwargs["pk"])

    def get_page_title(self) -> str:
        return f"{self.event.type} {self.event.stripe_id}"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("stripe_events:index"), "label": _("Stripe events")},
            {"url": "", "label": self.event.stripe_id},
        ]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["event"] = self.event
        context["payload"] = json.dumps(
            self.event.payload, indent=2, ensure_ascii=False
        )
        context["can_retry"] = self.request.user.has_perm(
            "campaigns.retry_stripeevent"
        ) and self.event.status in (StripeEvent.Status.FAILED,)
        return context


class StripeEventRetryView(StripeEventDetailView):
    """POST only: put a failed event back through processing."""

    http_method_names = ["post"]
    permission_required = "campaigns.retry_stripeevent"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            stripe_event_retry(event=self.event, user=request.user)
        except GatewayError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The event was queued again."))
        return redirect("stripe_events:detail", self.event.pk)


class StripeEventViewSet(ProcessRecordViewSet):
    model = StripeEvent
    name = "stripe_events"
    url_prefix = "online-giving/stripe-events"
    icon = "cogs"
    menu_label = gettext_lazy("Stripe events")
    index_view_class = StripeEventIndexView
    detail_view_class = StripeEventDetailView

    def extra_urlpatterns(self):
        return [path("<int:pk>/retry/", StripeEventRetryView.as_view(), name="retry")]


class DonationIntentIndexView(IndexView):
    default_ordering = "-created_at"
    page_title = gettext_lazy("Online donations")
    any_permission_required = ["view"]
    search_fields = ["email", "family_name", "checkout_session_id"]

    def get_base_queryset(self) -> QuerySet[DonationIntent]:
        return DonationIntent.objects.select_related("campaign", "gift")

    def get_edit_url(self, instance):
        return None

    @cached_property
    def columns(self):
        return [
            DateColumn("created_at", label=_("Started"), sort_key="created_at"),
            Column("campaign", label=_("Campaign"), accessor="campaign.title"),
            Column("money", label=_("Amount"), accessor=lambda i: str(i.money)),
            Column("frequency", label=_("Frequency"), accessor="get_frequency_display"),
            Column("status", label=_("Status"), accessor="get_status_display"),
            Column("email", label=_("Email")),
            Column("checkout_session_id", label=_("Checkout session")),
            Column(
                "gift",
                label=_("Gift"),
                accessor=lambda i: (
                    f"#{i.gift_id} {i.gift.stripe_charge_id or ''}" if i.gift_id else ""
                ),
            ),
        ]


class DonationIntentViewSet(ProcessRecordViewSet):
    model = DonationIntent
    name = "donation_intents"
    url_prefix = "online-giving/donations"
    icon = "form"
    menu_label = gettext_lazy("Online donations")
    index_view_class = DonationIntentIndexView


# -- reconciliation ------------------------------------------------------------------


class ReconciliationIndexView(IndexView):
    default_ordering = "-started_at"
    page_title = gettext_lazy("Stripe reconciliation")
    any_permission_required = ["view"]

    def get_base_queryset(self) -> QuerySet[ReconciliationRun]:
        return ReconciliationRun.objects.select_related("started_by")

    @cached_property
    def header_buttons(self):
        if not self.request.user.has_perm("campaigns.run_reconciliationrun"):
            return []
        return [
            HeaderButton(
                _("Run now"), url=reverse("reconciliation:run"), icon_name="resubmit"
            )
        ]

    @cached_property
    def columns(self):
        return [
            TitleColumn(
                "started_at",
                label=_("Run at"),
                get_url=lambda r: reverse("reconciliation:detail", args=[r.pk]),
                accessor=lambda r: r.started_at.strftime("%Y-%m-%d %H:%M"),
                sort_key="started_at",
            ),
            Column("status", label=_("Status"), accessor="get_status_display"),
            Column("checked_charges", label=_("Charges checked")),
            Column(
                "replayed",
                label=_("Events replayed"),
                accessor=_count("replayed_events"),
            ),
            Column(
                "missing",
                label=_("Charges without a gift"),
                accessor=_count("missing_gifts"),
            ),
            Column(
                "unknown",
                label=_("Gifts without a charge"),
                accessor=_count("unknown_charges"),
            ),
            Column(
                "started_by",
                label=_("Started by"),
                accessor=lambda r: r.started_by or _("Hourly (automatic)"),
            ),
        ]


def _count(attribute: str):
    return lambda run: len(getattr(run, attribute) or [])


class ReconciliationDetailView(StaffTemplateView):
    template_name = "campaigns/admin/reconciliation_detail.html"
    header_icon = "resubmit"
    permission_required = "campaigns.view_reconciliationrun"

    @cached_property
    def run(self) -> ReconciliationRun:
        return get_object_or_404(
            ReconciliationRun.objects.select_related("started_by"), pk=self.kwargs["pk"]
        )

    def get_page_title(self) -> str:
        return _("Stripe reconciliation")

    def get_page_subtitle(self) -> str:
        return str(self.run)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {
                "url": reverse("reconciliation:index"),
                "label": _("Stripe reconciliation"),
            },
            {"url": "", "label": str(self.run)},
        ]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        run = self.run
        event_pks = dict(
            StripeEvent.objects.filter(
                stripe_id__in=[row["event"] for row in run.replayed_events]
            ).values_list("stripe_id", "pk")
        )
        context.update(
            run=run,
            replayed=[
                {**row, "pk": event_pks.get(row["event"])}
                for row in run.replayed_events
            ],
            can_view_gifts=self.request.user.has_perm("donors.view_gift"),
        )
        return context


class ReconciliationRunView(StaffTemplateView):
    """GET: what a run does; POST: queue one now (Celery, or at once when eager)."""

    template_name = "campaigns/admin/reconciliation_run.html"
    header_icon = "resubmit"
    page_title = gettext_lazy("Run a Stripe reconciliation")
    permission_required = "campaigns.run_reconciliationrun"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {
                "url": reverse("reconciliation:index"),
                "label": _("Stripe reconciliation"),
            },
            {"url": "", "label": _("Run now")},
        ]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from campaigns import stripe_gateway
        from campaigns.tasks import reconcile_stripe

        if not stripe_gateway.is_available():
            messages.error(request, _("Stripe is not configured (STRIPE_SECRET_KEY)."))
            return redirect("reconciliation:index")
        try:
            days = min(max(int(request.POST.get("days", "3")), 1), 30)
        except ValueError:
            days = 3
        reconcile_stripe.delay(days=days, user_pk=request.user.pk)
        messages.success(
            request,
            _(
                "The reconciliation was started. Its result appears in this list "
                "when it is done."
            ),
        )
        return redirect("reconciliation:index")


class ReconciliationViewSet(ProcessRecordViewSet):
    model = ReconciliationRun
    name = "reconciliation"
    url_prefix = "online-giving/reconciliation"
    icon = "resubmit"
    menu_label = gettext_lazy("Stripe reconciliation")
    index_view_class = ReconciliationIndexView
    detail_view_class = ReconciliationDetailView

    def extra_urlpatterns(self):
        return [path("run/", ReconciliationRunView.as_view(), name="run")]


class OnlineGivingViewSetGroup(ViewSetGroup):
    menu_label = gettext_lazy("Online giving")
    menu_icon = "globe"
    menu_order = 220
    items = (DonationIntentViewSet, StripeEventViewSet, ReconciliationViewSet)
