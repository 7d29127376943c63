from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

DONORS_AUDIT_ACTIONS = {
    "donors.donor.created": _("Donor created"),
    "donors.donor.updated": _("Donor updated"),
    "donors.donor.merged": _("Donors merged"),
    "donors.duplicate.dismissed": _("Duplicate pair dismissed"),
    "donors.consent.recorded": _("Consent recorded"),
    "donors.gift.recorded": _("Gift recorded"),
    "donors.gift.recorded_many": _("Gifts recorded (import)"),
    "donors.gift.refunded": _("Gift refunded"),
    "donors.gift.refunded_many": _("Gifts refunded (import undone)"),
    # donors/services/recurring.py
    "donors.recurring_gift.changed": _("Recurring gift amount changed"),
    "donors.recurring_gift.paused": _("Recurring gift paused"),
    "donors.recurring_gift.resumed": _("Recurring gift resumed"),
    "donors.recurring_gift.cancelled": _("Recurring gift cancelled"),
}


@hooks.register("register_log_actions")
def register_donors_audit_actions(actions):
    for action, label in DONORS_AUDIT_ACTIONS.items():
        actions.register_action(action, label, label)


# -- Duplicate donors (donors/duplicates_views.py) ------------------------------------


@hooks.register("register_admin_urls")
def register_duplicate_urls():
    from django.urls import include, path

    from donors import duplicates_views

    return [path("donors/duplicates/", include(duplicates_views))]


class _DuplicatesMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm("donors.merge_donor")


@hooks.register("register_admin_menu_item")
def register_duplicates_menu_item():
    return _DuplicatesMenuItem(
        _("Duplicate donors"),
        reverse("donors_duplicates:list"),
        name="donor-duplicates",
        icon_name="group",
        order=320,
    )


# -- staff UI: donors, households, gifts, giving totals (donors/views.py) --------------


@hooks.register("register_admin_viewset")
def register_donor_viewsets():
    from donors.views import DonorsViewSetGroup, donor_chooser_viewset

    return [DonorsViewSetGroup(), donor_chooser_viewset]
