from django.utils.translation import gettext_lazy as _
from wagtail import hooks

GRANTS_AUDIT_ACTIONS = {
    "grants.ledger.reversed": _("Ledger entry reversed"),
    "grants.fund.created": _("Fund created"),
    "grants.fund.closed": _("Fund closed"),
}


@hooks.register("register_log_actions")
def register_grants_audit_actions(actions):
    for action, label in GRANTS_AUDIT_ACTIONS.items():
        actions.register_action(action, label, label)


# -- staff UI: funds with balances and movements (grants/views.py) --------------------


@hooks.register("register_admin_viewset")
def register_fund_viewset():
    from grants.views import FundViewSet

    return FundViewSet()
