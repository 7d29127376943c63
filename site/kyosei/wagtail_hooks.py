from wagtail import hooks

from kyosei.admin_reports import SITE_HISTORY_MENU_ITEM
from kyosei.audit import AUDIT_ACTIONS
from kyosei.roles import may_view_site_history


@hooks.register("register_log_actions")
def register_core_audit_actions(actions):
    for action, label in AUDIT_ACTIONS.items():
        actions.register_action(action, label, label)


@hooks.register("construct_reports_menu")
def hide_site_history(request, menu_items):
    """The menu follows the URL's rule (kyosei.admin_reports): hiding is not
    access control, the view refuses too."""
    if not may_view_site_history(request.user):
        menu_items[:] = [i for i in menu_items if i.name != SITE_HISTORY_MENU_ITEM]
