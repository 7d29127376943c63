"""Donor portal pages: HTTP and validation only; rules live in the services.

Every page needs a signed-in user linked to a donor (``donor_required``) and reads
only through that donor, so another donor's gift or monthly gift is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from donors.errors import DonorError, GiftError
from donors.models import Donor, RecurringGift
from donors.portal import selectors
from donors.portal.forms import (
    DeletionRequestForm,
    PreferencesForm,
    ProfileForm,
    RecurringAmountForm,
    ReissueForm,
)
from donors.portal.models import DeletionRequest
from donors.portal.services import deletion_request_create, donor_portal_link
from donors.receipts.errors import ReceiptError
from donors.receipts.models import VALID_STATUSES, Receipt
from donors.receipts.services import receipt_reissue
from donors.services.donors import consent_record, donor_update
from donors.services.recurring import (
    recurring_gift_cancel,
    recurring_gift_change,
    recurring_gift_pause,
    recurring_gift_resume,
)
from kyosei.money import Money, format_money, format_yen
from kyosei.private_files import private_file_response
from kyosei.roles import is_staff_user

GIFTS_PER_PAGE = 50
CONSENT_SOURCE = "donor portal"

View = Callable[..., HttpResponse]


def donor_required(view: View) -> View:
    """Signed in (else to login) and linked to a donor (else an explanation)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        donor = donor_portal_link(user=request.user)
        if donor is None:
            return render(
                request,
                "donors/portal/no_donor.html",
                {"is_staff": is_staff_user(request.user)},
                status=403,
            )
        return view(request, donor, *args, **kwargs)

    return wrapper


def _yen(amount: int) -> str:
    return format_yen(amount, get_language())


def card_update_url(recurring: RecurringGift) -> str | None:
    """Stripe's customer portal for this subscription; online giving provides it.

    Until the Stripe integration exists there is no URL, and the page says card
    changes arrive with online giving.
    """
    return None


@donor_required
def home(request: HttpRequest, donor: Donor) -> HttpResponse:
    years = selectors.portal_year_totals(donor)
    recurring = selectors.portal_recurring_gifts(donor).exclude(
        status=RecurringGift.Status.CANCELLED
    )
    return render(
        request,
        "donors/portal/home.html",
        {
            "donor": donor,
            "name": donor.display_name(get_language()),
            "lifetime": _yen(selectors.portal_lifetime_yen(donor)),
            "years": [(y.year, _yen(y.total_yen), y.count) for y in years],
            "recurring": [
                (r, format_money(r.money, get_language())) for r in recurring
            ],
            "needs_address": not donor.has_address,
            "section": "home",
        },
    )


@donor_required
def gift_list(request: HttpRequest, donor: Donor) -> HttpResponse:
    page = Paginator(selectors.portal_gifts(donor), GIFTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = [(gift, format_money(gift.money, get_language())) for gift in page]
    return render(
        request,
        "donors/portal/gift_list.html",
        {"donor": donor, "page": page, "rows": rows, "section": "gifts"},
    )


@donor_required
def gift_detail(request: HttpRequest, donor: Donor, pk: int) -> HttpResponse:
    gift = get_object_or_404(selectors.portal_gifts(donor), pk=pk)
    return render(
        request,
        "donors/portal/gift_detail.html",
        {
            "donor": donor,
            "gift": gift,
            "amount": format_money(gift.money, get_language()),
            "amount_yen": _yen(gift.amount_yen),
            "refunded_yen": _yen(gift.refunded_yen) if gift.refunded_yen else "",
            "section": "gifts",
        },
    )


@donor_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest, donor: Donor) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=donor)
    if request.method == "POST" and form.is_valid():
        try:
            donor_update(donor=donor, user=request.user, **form.service_fields())
        except DonorError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Your details were saved."))
            return redirect("donor_portal:profile")
    return render(
        request,
        "donors/portal/profile.html",
        {"donor": donor, "form": form, "section": "profile"},
    )


@donor_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest, donor: Donor) -> HttpResponse:
    current = selectors.portal_consents(donor)
    form = PreferencesForm(request.POST or None, current=current)
    if request.method == "POST" and form.is_valid():
        today = timezone.localdate()
        for channel, granted in form.changed_channels(current).items():
            consent_record(
                donor=donor,
                channel=channel,
                granted=granted,
                recorded_on=today,
                source=CONSENT_SOURCE,
                user=request.user,
            )
        messages.success(request, _("Your preferences were saved."))
        return redirect("donor_portal:preferences")
    return render(
        request,
        "donors/portal/preferences.html",
        {"donor": donor, "form": form, "section": "preferences"},
    )


@donor_required
def recurring_list(request: HttpRequest, donor: Donor) -> HttpResponse:
    items = [
        (r, format_money(r.money, get_language()))
        for r in selectors.portal_recurring_gifts(donor)
    ]
    return render(
        request,
        "donors/portal/recurring_list.html",
        {"donor": donor, "items": items, "section": "recurring"},
    )


RECURRING_ACTIONS = {
    "pause": (recurring_gift_pause, gettext_lazy("Your regular gift is paused.")),
    "resume": (
        recurring_gift_resume,
        gettext_lazy("Your regular gift is active again."),
    ),
    "cancel": (recurring_gift_cancel, gettext_lazy("Your regular gift is cancelled.")),
}


@donor_required
@require_http_methods(["GET", "POST"])
def recurring_detail(request: HttpRequest, donor: Donor, pk: int) -> HttpResponse:
    recurring = get_object_or_404(selectors.portal_recurring_gifts(donor), pk=pk)
    action = request.POST.get("action", "")
    amount_form = RecurringAmountForm(
        request.POST if action == "change" else None, currency=recurring.currency
    )
    if request.method == "POST":
        try:
            if action == "change":
                if amount_form.is_valid():
                    try:
                        money = Money.of(
                            amount_form.cleaned_data["amount"], recurring.currency
                        )
                    except ValueError:
                        amount_form.add_error("amount", _("Enter a valid amount."))
                    else:
                        recurring_gift_change(
                            recurring_gift=recurring, amount=money, user=request.user
                        )
                        messages.success(request, _("The new amount is saved."))
                        return redirect("donor_portal:recurring", pk=pk)
            elif action in RECURRING_ACTIONS:
                service, message = RECURRING_ACTIONS[action]
                service(recurring_gift=recurring, user=request.user)
                messages.success(request, str(message))
                return redirect("donor_portal:recurring", pk=pk)
            else:
                messages.error(request, _("Unknown action."))
        except GiftError as exc:
            messages.error(request, str(exc))
            recurring.refresh_from_db()
    return render(
        request,
        "donors/portal/recurring_detail.html",
        {
            "donor": donor,
            "recurring": recurring,
            "amount": format_money(recurring.money, get_language()),
            "amount_form": amount_form,
            "card_update_url": card_update_url(recurring),
            "section": "recurring",
        },
    )


@donor_required
@require_http_methods(["GET", "POST"])
def delete_account(request: HttpRequest, donor: Donor) -> HttpResponse:
    open_request = DeletionRequest.objects.filter(
        donor=donor, status=DeletionRequest.Status.OPEN
    ).first()
    form = DeletionRequestForm(request.POST or None)
    if request.method == "POST" and open_request is None and form.is_valid():
        try:
            deletion_request_create(
                donor=donor, user=request.user, reason=form.cleaned_data["reason"]
            )
        except DonorError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _(
                    "We received your request. Staff will confirm by email when it "
                    "is done."
                ),
            )
        return redirect("donor_portal:delete")
    return render(
        request,
        "donors/portal/delete.html",
        {
            "donor": donor,
            "form": form,
            "open_request": open_request,
            "section": "delete",
        },
    )


# --- receipts (donors.receipts) -----------------------------------------------------


@donor_required
def receipt_list(request: HttpRequest, donor: Donor) -> HttpResponse:
    receipts = Receipt.objects.filter(donor=donor).order_by("-issued_at", "-id")
    items = [(r, format_yen(r.total_yen, get_language())) for r in receipts]
    return render(
        request,
        "donors/portal/receipt_list.html",
        {
            "donor": donor,
            "items": items,
            "reissue_form": ReissueForm(),
            "section": "receipts",
        },
    )


@donor_required
def receipt_pdf(request: HttpRequest, donor: Donor, pk: int) -> HttpResponse:
    """The stored PDF as issued (never regenerated), from the private storage;
    only the signed-in donor's own standing receipts (void ones are not served)."""
    receipt = get_object_or_404(
        Receipt.objects.filter(donor=donor, status__in=VALID_STATUSES), pk=pk
    )
    return private_file_response(
        receipt.pdf,
        filename=f"receipt-{receipt.number}.pdf",
        content_type="application/pdf",
    )


@donor_required
@require_http_methods(["POST"])
def receipt_reissue_request(
    request: HttpRequest, donor: Donor, pk: int
) -> HttpResponse:
    """Reissue at once with the donor's current name and address (voids the old)."""
    receipt = get_object_or_404(Receipt.objects.filter(donor=donor), pk=pk)
    form = ReissueForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose why you need a new receipt."))
        return redirect("donor_portal:receipts")
    try:
        new = receipt_reissue(
            receipt=receipt,
            user=request.user,
            reason=form.reason_text(),
        )
    except ReceiptError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Receipt %(new)s replaces %(old)s.")
            % {"new": new.number, "old": receipt.number},
        )
    return redirect("donor_portal:receipts")
