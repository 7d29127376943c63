from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.ui.components import Component

CAMPAIGNS_AUDIT_ACTIONS = {
    "campaigns.stripe_event.retried": _("Stripe event retried"),
    "campaigns.recurring.started": _("Monthly gift started online"),
    "campaigns.recurring.updated": _("Monthly gift updated from Stripe"),
    "campaigns.recurring.cancelled": _("Monthly gift cancelled in Stripe"),
    "campaigns.recurring.payment_failed": _("Monthly gift payment failed"),
    "campaigns.gift.disputed": _("Card payment disputed"),
    "campaigns.gift.dispute_closed": _("Card dispute closed"),
}


@hooks.register("register_log_actions")
def register_campaigns_audit_actions(actions):
    for action, label in CAMPAIGNS_AUDIT_ACTIONS.items():
        actions.register_action(action, label, label)


@hooks.register("register_admin_viewset")
def register_online_giving_viewsets():
    from campaigns.admin_views import OnlineGivingViewSetGroup

    return OnlineGivingViewSetGroup()


class FailedPaymentsPanel(Component):
    """Admin home notice while a failed-payment spike alert is active."""

    name = "failed_payments_alert"
    order = 10

    def __init__(self, count: int) -> None:
        self.count = count

    def render_html(self, parent_context=None) -> str:
        return format_html(
            (
                '<section class="help-block help-critical" role="alert">'
                "<p>{}</p></section>"
            ),
            _(
                "Alert: %(n)s failed online payments in the last hour. This can be "
                "card testing; check the Stripe dashboard and the Stripe events."
            )
            % {"n": self.count},
        )


@hooks.register("construct_homepage_panels")
def add_failed_payments_panel(request, panels):
    from campaigns.services.stripe_events import failed_payment_alert

    if not (
        request.user.has_perm("campaigns.view_stripeevent")
        or request.user.has_perm("campaigns.view_donationintent")
    ):
        return
    count = failed_payment_alert()
    if count:
        panels.insert(0, FailedPaymentsPanel(count))
