"""Shared Wagtail admin viewset pieces for records that are never deleted."""

from django.urls import path
from wagtail.admin.admin_url_finder import ModelAdminURLFinder
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permissions import policy_registry


class DetailURLFinder(ModelAdminURLFinder):
    """Where an object's admin links point (the site history, audit listings):
    its read-only detail page, for a user who may view it.

    Wagtail's default finder links to an ``edit`` view and checks the ``change``
    permission; records that are never edited (gifts: corrections are refunds)
    have no edit view, and reversing one broke the site history with a
    ``NoReverseMatch``. Subclasses set ``edit_url_name`` to the detail view.
    """

    def get_edit_url(self, instance):
        policy = policy_registry.get(instance)
        if (
            self.user
            and policy
            and not policy.user_has_permission_for_instance(self.user, "view", instance)
        ):
            return None
        return self.construct_edit_url(instance)


def detail_url_finder(url_name: str) -> type[DetailURLFinder]:
    """A :class:`DetailURLFinder` for the detail view named ``url_name``."""
    return type("DetailURLFinder", (DetailURLFinder,), {"edit_url_name": url_name})


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
