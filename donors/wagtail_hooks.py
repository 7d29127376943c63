from django.utils.translation import gettext_lazy as _
from wagtail import hooks

DONORS_AUDIT_ACTIONS = {
    "donors.donor.created": _("Donor created"),
    "donors.donor.updated": _("Donor updated"),
    "donors.donor.merged": _("Donors merged"),
    "donors.consent.recorded": _("Consent recorded"),
    "donors.gift.recorded": _("Gift recorded"),
    "donors.gift.refunded": _("Gift refunded"),
}


@hooks.register("register_log_actions")
def register_donors_audit_actions(actions):
    for action, label in DONORS_AUDIT_ACTIONS.items():
        actions.register_action(action, label, label)
