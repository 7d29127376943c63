"""Shared Wagtail admin viewset pieces for records that are never deleted."""

from django.urls import path
from wagtail.admin.viewsets.model import ModelViewSet


class KeptRecordViewSet(ModelViewSet):
    """A model viewset without delete, copy or usage views.

    Donors are merged and funds are closed; neither is ever deleted (gifts and
    ledger entries PROTECT them). Subclasses add their own detail view with
    ``extra_urlpatterns``.
    """

    copy_view_enabled = False
    add_to_reference_index = False

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(
            delete_url_name=None, usage_url_name=None, **kwargs
        )

    def extra_urlpatterns(self) -> list:
        return []

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("new/", self.add_view, name="add"),
            path("edit/<int:pk>/", self.edit_view, name="edit"),
            *self.extra_urlpatterns(),
            path("history/<int:pk>/", self.history_view, name="history"),
            path(
                "history-results/<int:pk>/",
                self.history_results_view,
                name="history_results",
            ),
        ]
