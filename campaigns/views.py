"""HTTP for online giving: the donate form, thank-you page, demo checkout and the
Stripe webhook. Rules live in ``campaigns.services``."""

from __future__ import annotations

import logging

import stripe
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from campaigns import stripe_gateway as gateway
from campaigns.errors import CheckoutError, MalformedEvent
from campaigns.forms import DonateForm, preset_table
from campaigns.models import DonationIntent
from campaigns.selectors import campaign_progress
from campaigns.services.checkout import checkout_start, donation_limits
from campaigns.services.demo_checkout import demo_checkout_cancel, demo_checkout_pay
from campaigns.services.recurring import (
    recurring_amount_change_online,
    recurring_cancel_online,
    recurring_card_update_url,
)
from campaigns.services.stripe_events import stripe_event_store

logger = logging.getLogger(__name__)


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def campaign_page_serve(page, request: HttpRequest, default_serve, *args, **kwargs):
    """GET: the page with its progress bar and donate form. POST: start checkout."""
    if request.method != "POST":
        request.donate_form = DonateForm(page=page)
        return default_serve(request, *args, **kwargs)
    form = DonateForm(request.POST, page=page)
    if form.is_bot:
        logger.info("Donate form honeypot filled from %s", _client_ip(request))
        return HttpResponseRedirect(page.get_url(request) or "/")
    if form.is_valid():
        data = form.cleaned_data
        try:
            intent = checkout_start(
                campaign=page,
                amount=data["money"],
                monthly=data["frequency"] == DonationIntent.Frequency.MONTHLY,
                cover_fees=data["cover_fees"],
                donor=data,
                anonymous_public=data["anonymous_public"],
                consent_updates=data["consent_updates"],
                language=(get_language() or "ja")[:2],
                ip=_client_ip(request),
                base_url=request.build_absolute_uri("/"),
            )
        except CheckoutError as exc:
            form.add_error(None, str(exc))
        else:
            return HttpResponseRedirect(intent.checkout_url, status=303)
    request.donate_form = form
    response = default_serve(request, *args, **kwargs)
    response.status_code = 400
    return response


def campaign_page_context(page, request: HttpRequest) -> dict:
    form = getattr(request, "donate_form", None) or DonateForm(page=page)
    return {
        "form": form,
        "preset_table": preset_table(page),
        "progress": campaign_progress(page),
        "min_jpy": donation_limits("JPY").minimum,
        "online_giving": gateway.is_available(),
        "demo_checkout": gateway.is_demo(),
    }


def thanks(request: HttpRequest, uuid) -> HttpResponse:
    """Shows the donation's state as Stripe has told us; never records money."""
    intent = get_object_or_404(
        DonationIntent.objects.select_related("campaign", "gift"), uuid=uuid
    )
    return render(
        request,
        "campaigns/thanks.html",
        {"intent": intent, "page": intent.campaign, "progress": None},
    )


@require_http_methods(["GET", "POST"])
def demo_checkout(request: HttpRequest, uuid) -> HttpResponse:
    if not gateway.is_demo():
        raise Http404
    intent = get_object_or_404(
        DonationIntent.objects.select_related("campaign"), uuid=uuid
    )
    if request.method == "POST":
        try:
            if request.POST.get("action") == "cancel":
                demo_checkout_cancel(intent=intent)
                return HttpResponseRedirect(intent.campaign.get_url(request) or "/")
            demo_checkout_pay(intent=intent)
        except CheckoutError as exc:
            return HttpResponseBadRequest(str(exc))
        return HttpResponseRedirect(reverse("campaigns:thanks", args=[intent.uuid]))
    return render(
        request,
        "campaigns/demo_checkout.html",
        {"intent": intent, "page": intent.campaign},
    )


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Verify the signature on the raw body, store the event once, queue it.

    400 for a bad or stale signature, or a signed body that is not a storable
    event (with the reason; nothing stored); 200 for a new or a duplicate
    event. Processing happens after commit in a Celery task.
    """
    payload = request.body
    try:
        event = gateway.webhook_event_verify(
            payload, request.headers.get("Stripe-Signature")
        )
    except stripe.SignatureVerificationError:
        return HttpResponseBadRequest("invalid signature", content_type="text/plain")
    except MalformedEvent as exc:
        return HttpResponseBadRequest(
            f"invalid payload: {exc}", content_type="text/plain"
        )
    _event, created = stripe_event_store(payload=event)
    return HttpResponse("ok" if created else "duplicate", content_type="text/plain")


def _own_recurring(request: HttpRequest, pk: int):
    from donors.models import RecurringGift

    recurring = get_object_or_404(RecurringGift.objects.select_related("donor"), pk=pk)
    donor = recurring.donor
    while donor.merged_into_id:
        donor = donor.merged_into
    if donor.user_id is None or donor.user_id != request.user.pk:
        raise Http404
    return recurring


@login_required
@require_http_methods(["GET", "POST"])
def monthly_manage(request: HttpRequest, pk: int) -> HttpResponse:
    """The donor's own monthly gift: change the amount, update the card, stop it."""
    from kyosei.money import Money

    recurring = _own_recurring(request, pk)
    error = ""
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "cancel":
                recurring_cancel_online(recurring=recurring, user=request.user)
                messages.success(request, _("Your monthly gift has been stopped."))
            elif action == "amount":
                try:
                    amount = Money.of(
                        request.POST.get("amount", "").replace(",", ""),
                        recurring.currency,
                    )
                except (ValueError, TypeError):
                    raise CheckoutError(_("Please enter an amount.")) from None
                recurring_amount_change_online(
                    recurring=recurring, amount=amount, user=request.user
                )
                messages.success(request, _("The new amount applies from next month."))
            elif action == "card":
                url = recurring_card_update_url(
                    recurring=recurring,
                    return_url=request.build_absolute_uri(request.path),
                )
                return HttpResponseRedirect(url)
        except CheckoutError as exc:
            error = str(exc)
        else:
            return HttpResponseRedirect(request.path)
    recurring.refresh_from_db()
    return render(
        request,
        "campaigns/monthly_manage.html",
        {"recurring": recurring, "error": error, "page": None},
        status=400 if error else 200,
    )
