"""Wagtail's built-in admin reports, limited to the roles that may read them.

Wagtail opens its *site history* to every admin user and lists in it the audit
entries of every model the user holds any permission on, each labelled with the
object's name — donors' names among them, with CSV and XLSX exports. Kyosei
serves that report at Wagtail's own address through :class:`SiteHistoryView`,
which refuses roles that may not see donors (see ``kyosei.roles``), and the
``construct_reports_menu`` hook hides its menu item from them.

Wagtail's page reports (locked pages, workflows, workflow tasks, aging pages,
page types usage) list public pages and the staff who edited them, never a donor;
Wagtail already opens them only to users with page permissions (Admin, Editor,
Fundraiser), and they stay as they are.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.urls import path
from django.views.decorators.cache import never_cache
from wagtail.admin.auth import require_admin_access
from wagtail.admin.views.reports.audit_logging import LogEntriesView

from kyosei.roles import may_view_site_history

SITE_HISTORY_MENU_ITEM = "site-history"


class SiteHistoryView(LogEntriesView):
    """Wagtail's site history (and its exports) for roles that may see donors."""

    def dispatch(self, request, *args, **kwargs):
        if not may_view_site_history(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def _admin_view(view):
    # As Wagtail wraps its own admin URLs: sign-in and admin access first, a
    # refusal becomes the dashboard with a message, and nothing is cached.
    return never_cache(require_admin_access(view))


# Included in ROOT_URLCONF *before* Wagtail's admin URLs, at the same paths, so
# Wagtail's unguarded views are never reached.
urlpatterns = [
    path(
        "",
        _admin_view(SiteHistoryView.as_view()),
        name="kyosei_site_history",
    ),
    path(
        "results/",
        _admin_view(SiteHistoryView.as_view(results_only=True)),
        name="kyosei_site_history_results",
    ),
]
