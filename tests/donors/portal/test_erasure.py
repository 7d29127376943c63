"""A processed deletion request leaves no personal data behind.

One donor is seeded through every path that stores something about a person —
the donate form and signed Stripe webhooks (one-time and monthly), portal
sign-up, profile edit and a second factor, a bank transfer import and a payer
alias, receipts issued and emailed (one bounced), a donor spreadsheet preview,
staff edits in the admin (household, tags, consent, notes), a duplicate merged
into them, another donor's note that mentions them — then the deletion request
is processed and every column of every table of the database is read with raw
SQL and searched for the donor's names, emails, phones and addresses. The only
hits allowed are the ones the law requires us to keep (``KEPT``).
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import stripe
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from wagtail.models import ModelLogEntry

from campaigns import fake_stripe as fs
from campaigns import stripe_gateway
from campaigns.fake_stripe import FakeStripeHTTPClient
from campaigns.models import DonationIntent, StripeEvent
from donors.imports.models import ImportRow, PayerAlias
from donors.imports.readers.zengin import build_file
from donors.imports.services import alias_teach, transfer_import
from donors.imports.spreadsheet_services import (
    spreadsheet_check,
    spreadsheet_map,
    spreadsheet_read,
    spreadsheet_upload,
)
from donors.models import Donor, DonorMerge, Gift, Household, RecurringGift
from donors.portal.models import DeletionRequest
from donors.portal.services import (
    deletion_request_create,
    deletion_request_process,
    donor_anonymise,
)
from donors.receipts.models import Receipt, ReceiptEmail
from donors.receipts.services import receipt_email_mark_bounced, receipt_issue_single
from donors.services.donors import donor_create, donor_merge
from donors.services.duplicates import duplicate_dismiss
from kyosei.roles import Role
from tests.conftest import Client
from tests.factories.campaigns import WEBHOOK_SECRET, campaign_page, post_event
from tests.factories.donors import DonorFactory
from tests.factories.users import PASSWORD, give_totp, staff_user

pytestmark = pytest.mark.django_db

FAMILY, GIVEN = "鷺宮", "澪子"
FAMILY_KANA, GIVEN_KANA = "サギノミヤ", "レイコ"
PAYER = "ｻｷﾞﾉﾐﾔ ﾚｲｺ"  # as the bank prints it
LATIN = "Rëiko Saginomiya"
EMAIL = "xylo.saginomiya@example.net"
EMAIL_DUPLICATE = "reiko.s.alt@example.org"
PHONE = "090-7351-2846"
OLD_LINE1, OLD_LINE2 = "鷺宮9-8-7", "澪ハイツ405"
NEW_LINE1, NEW_LINE2 = "白鷺3-21-9", "グラン白鷺1203"

#: What must not be found anywhere once the request is processed.
NEEDLES = [
    FAMILY, GIVEN, FAMILY_KANA, GIVEN_KANA, "ｻｷﾞﾉﾐﾔ", "ﾚｲｺ", "さぎのみや",
    "Saginomiya", "Rëiko", EMAIL, EMAIL_DUPLICATE, "xylo.saginomiya", PHONE,
    "09073512846", "7351-2846", OLD_LINE1, OLD_LINE2, NEW_LINE1, NEW_LINE2,
]  # fmt: skip

#: (table, column): why it may still hold the donor's data.
KEPT = {
    ("receipts_receipt", "donor_name"): "an issued receipt is a tax document "
    "(電子帳簿保存法): the name as printed is kept with its PDF",
    ("receipts_receipt", "donor_address"): "an issued receipt is a tax document "
    "(電子帳簿保存法): the address as printed is kept with its PDF",
}


@pytest.fixture(autouse=True)
def _stripe_and_media(settings, tmp_path):
    settings.STRIPE_SECRET_KEY = "sk_test_kyosei"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.KYOSEI_DEMO = False
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def fake_stripe():
    fake = FakeStripeHTTPClient()
    with stripe_gateway.using_client(stripe.StripeClient("sk_x", http_client=fake)):
        yield fake


@pytest.fixture
def campaign(demo_core):
    return campaign_page()


# -- raw search of the whole database ----------------------------------------------


def _texts(value) -> list[str]:
    """A column value as the texts to search (JSON read back with its
    characters: SQLite keeps non-ASCII JSON as \\uXXXX escapes)."""
    if value is None:
        return []
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return [value.decode("utf-8", "replace"), value.decode("cp932", "replace")]
    if isinstance(value, dict | list):
        return [json.dumps(value, ensure_ascii=False)]
    if not isinstance(value, str):
        return []
    texts = [value]
    if "\\u" in value:
        try:
            texts.append(json.dumps(json.loads(value), ensure_ascii=False))
        except ValueError:
            texts.append(value.encode().decode("unicode_escape", "replace"))
    return texts


def personal_data_hits(needles: list[str]) -> set[tuple[str, str, str]]:
    """(table, column, needle) for every column of every table that holds one
    of ``needles``: introspected and read with raw SQL, so nothing the ORM does
    not know about is missed. Sessions are decoded (they are signed base64)."""
    hits = set()
    lowered = [n.lower() for n in needles]
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor, include_views=False)
        for table in tables:
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608 - introspected names
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    for text in _texts(value):
                        low = text.lower()
                        for needle, low_needle in zip(needles, lowered, strict=True):
                            if low_needle in low:
                                hits.add((table, column, needle))
    for session in Session.objects.all():
        decoded = str(SessionStore().decode(session.session_data))
        for needle in needles:
            if needle.lower() in decoded.lower():
                hits.add(("django_session", "session_data (decoded)", needle))
    return hits


def _sessions_of(user) -> list[str]:
    return [
        s.pk
        for s in Session.objects.all()
        if SessionStore().decode(s.session_data).get("_auth_user_id") == str(user.pk)
    ]


# -- seeding the donor through every path ------------------------------------------


FORM = {
    "preset": "",
    "amount": "5000",
    "currency": "JPY",
    "frequency": "once",
    "family_name": FAMILY,
    "given_name": GIVEN,
    "email": EMAIL,
    "country": "JP",
    "postal_code": "1650032",
    "prefecture": "東京都",
    "city": "中野区",
    "address_line1": OLD_LINE1,
    "address_line2": OLD_LINE2,
    "consent_updates": "on",
    "website": "",
}

BILLING = {
    "email": EMAIL,
    "name": f"{LATIN}",
    "phone": PHONE,
    "address": {
        "line1": OLD_LINE1,
        "line2": OLD_LINE2,
        "postal_code": "165-0032",
        "city": "中野区",
        "state": "東京都",
        "country": "JP",
    },
}


def _deliver(client, on_commit, event_type, obj, **kwargs):
    payload = fs.build_event(event_type, obj, **kwargs)
    with on_commit():
        response = post_event(client, payload)
    assert response.status_code == 200, response.content
    return StripeEvent.objects.get(stripe_id=payload["id"])


def _give_online(client, on_commit, campaign, *, monthly: bool) -> DonationIntent:
    """The donate form, then Stripe's signed events as a real checkout sends them."""
    before = set(DonationIntent.objects.values_list("pk", flat=True))
    data = {**FORM, "frequency": "monthly" if monthly else "once"}
    response = client.post(campaign.url, data, REMOTE_ADDR="198.51.100.23")
    assert response.status_code == 303, response.content.decode()[:2000]
    intent = DonationIntent.objects.exclude(pk__in=before).get()
    session = fs.checkout_session_obj(
        session_id=intent.checkout_session_id,
        intent_uuid=str(intent.uuid),
        money=intent.money,
        mode="subscription" if monthly else "payment",
        suffix=intent.uuid.hex[:16],
        email=EMAIL,
    )
    session["customer_details"] = BILLING
    session["customer_email"] = EMAIL
    event = _deliver(client, on_commit, "checkout.session.completed", session)
    assert event.status == StripeEvent.Status.DONE, event.error
    if monthly:
        invoice = fs.invoice_obj(
            subscription_id=session["subscription"],
            intent_uuid=str(intent.uuid),
            money=intent.money,
            customer=session["customer"],
        )
        invoice.update(
            customer_email=EMAIL,
            customer_name=LATIN,
            customer_address=BILLING["address"],
            hosted_invoice_url="https://invoice.stripe.test/i/xyz",
        )
        event = _deliver(client, on_commit, "invoice.paid", invoice)
        assert event.status == StripeEvent.Status.DONE, event.error
        # Stripe also tells us about the customer (a type we store, not handle).
        customer = {
            "id": session["customer"],
            "object": "customer",
            **BILLING,
            "description": f"{FAMILY} {GIVEN}",
        }
        _deliver(client, on_commit, "customer.updated", customer)
    else:
        gift = Gift.objects.get(stripe_charge_id__isnull=False, recurring_gift=None)
        charge = fs.charge_obj(intent.money, charge_id=gift.stripe_charge_id)
        charge.update(
            billing_details=BILLING,
            receipt_email=EMAIL,
            payment_method_details={"card": {"last4": "4242", "exp_year": 2031}},
        )
        _deliver(client, on_commit, "charge.succeeded", charge)
    intent.refresh_from_db()
    return intent


def _sign_up_and_edit_profile(client, on_commit) -> None:
    with on_commit():  # sign-in emails are sent after commit
        response = client.post(
            reverse("account_signup"),
            {"email": EMAIL, "password1": PASSWORD, "password2": PASSWORD},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    link = next(
        re.search(r"(/\S*/confirm-email/\S+/)", m.body)
        for m in mail.outbox
        if "confirm-email" in m.body
    ).group(1)
    response = client.post(link)
    assert response.status_code == 302
    assert client.login(username=EMAIL, password=PASSWORD) or client.post(
        reverse("account_login"), {"login": EMAIL, "password": PASSWORD}
    )
    profile = {
        "family_name": FAMILY,
        "given_name": GIVEN,
        "family_name_kana": FAMILY_KANA,
        "given_name_kana": GIVEN_KANA,
        "latin_name": LATIN,
        "country": "JP",
        "postal_code": "1650032",
        "prefecture": "東京都",
        "city": "中野区",
        "address_line1": NEW_LINE1,
        "address_line2": NEW_LINE2,
        "region": "",
        "phone": PHONE,
        "preferred_language": "ja",
    }
    response = client.post(reverse("donor_portal:profile"), profile)
    assert response.status_code == 302, response.content.decode()[:2000]


def _import_transfer(tmp_path) -> None:
    rows = [
        {"inquiry_no": 1, "booked_on": "081101", "value_date": "081101",
         "amount": 12000, "payer_name": PAYER, "cancel": "0"},
        {"inquiry_no": 2, "booked_on": "081102", "value_date": "081102",
         "amount": 3000, "payer_name": "ﾀﾅｶ ｲﾁﾛｳ", "cancel": "0"},
    ]  # fmt: skip
    path = tmp_path / "statement.txt"
    path.write_bytes(build_file(kind_code="01", created_on="081130", rows=rows))
    result = transfer_import(path=path, format="zengin", user=None)
    assert result.counts["matched"] == 1, result.counts


def _staff_edits(client, donor: Donor, staff) -> None:
    client.force_login(staff)
    response = client.post(
        reverse("households:add"),
        {"name": f"{FAMILY}家", "notes": f"{GIVEN}さんの一人世帯"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    household = Household.objects.get(name=f"{FAMILY}家")
    url = reverse("donors:edit", args=[donor.pk])
    form = client.get(url).context["form"]
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name != "tags"
    }
    data.update(
        household=household.pk,
        tags=f"monthly, {FAMILY}{GIVEN}様",
        notes=f"{FAMILY} {GIVEN}様より電話 {PHONE}。領収書は{OLD_LINE1}へ。",
        consent_post="on",
        consent_source=f"電話（{FAMILY}様ご本人）",
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]


def _merge_a_duplicate(donor: Donor, staff) -> None:
    duplicate = donor_create(
        user=staff,
        family_name=FAMILY,
        given_name=GIVEN,
        family_name_kana=FAMILY_KANA,
        given_name_kana=GIVEN_KANA,
        email=EMAIL_DUPLICATE,
        phone=PHONE,
        postal_code="1650032",
        address_line1=OLD_LINE1,
        notes=f"イベントで受付: {LATIN}",
        source=Donor.Source.EVENT,
    )
    donor_merge(survivor=donor, merged=duplicate, user=staff)


def _spreadsheet_preview(donor: Donor, staff) -> None:
    rows = [
        ["寄附者ID", "姓", "名", "メール", "電話"],
        [str(donor.pk), FAMILY, GIVEN, EMAIL, PHONE],
    ]
    data = "\r\n".join(",".join(r) for r in rows).encode("utf-8-sig")
    record = spreadsheet_upload(
        upload=SimpleUploadedFile("list.csv", data), kind="donors", user=staff
    )
    record = spreadsheet_read(record_id=record.pk)  # the task's work
    spreadsheet_map(record=record, mapping=record.mapping, defaults=None)
    record = spreadsheet_check(record_id=record.pk)
    assert EMAIL in json.dumps(record.rows, ensure_ascii=False)


def _receipts(donor: Donor, on_commit) -> None:
    gift = Gift.objects.get(donor=donor, import_fingerprint__isnull=False)
    with on_commit():
        receipt_issue_single(gift=gift, user=None, send_email=True)
    email = ReceiptEmail.objects.filter(receipt__donor=donor).first()
    receipt_email_mark_bounced(
        email=email, error=f"550 5.1.1 <{EMAIL}>: mailbox {FAMILY} unknown"
    )


def seed_everywhere(client, on_commit, campaign, tmp_path) -> tuple[Donor, object]:
    _give_online(client, on_commit, campaign, monthly=False)
    _give_online(client, on_commit, campaign, monthly=True)
    donor = Donor.objects.get(email=EMAIL)
    portal = Client(HTTP_ACCEPT_LANGUAGE="en")
    _sign_up_and_edit_profile(portal, on_commit)
    donor.refresh_from_db()
    assert donor.user is not None and donor.address_line1 == NEW_LINE1
    give_totp(donor.user)
    _import_transfer(tmp_path)
    alias_teach(donor_id=donor.pk, payer_name=PAYER + " ｶｲｲﾝ", user=None)
    _receipts(donor, on_commit)
    staff = staff_user(Role.FUNDRAISER)
    _staff_edits(Client(HTTP_ACCEPT_LANGUAGE="en"), donor, staff)
    _merge_a_duplicate(donor, staff)
    _spreadsheet_preview(donor, staff)
    colleague = DonorFactory(
        family_name="田中",
        given_name="一郎",
        email="tanaka.ichiro@example.jp",
        notes=f"紹介者: {FAMILY} {GIVEN}（{EMAIL}）",
    )
    duplicate_dismiss(
        first=donor, second=colleague, reason=f"{GIVEN}さんの同僚", user=staff
    )
    # A sign-in by emailed code left half-way: the session holds the email.
    Client().post(reverse("account_request_login_code"), {"email": EMAIL})
    response = portal.post(
        reverse("donor_portal:delete"),
        {"confirm": "on", "reason": f"{FAMILY}です。退会します。"},
    )
    assert response.status_code == 302
    donor.refresh_from_db()
    return donor, staff


def test_deletion_leaves_personal_data_only_where_the_law_keeps_it(
    client, fake_stripe, campaign, tmp_path, django_capture_on_commit_callbacks
):
    def on_commit():
        return django_capture_on_commit_callbacks(execute=True)

    donor, staff = seed_everywhere(client, on_commit, campaign, tmp_path)
    before = personal_data_hits(NEEDLES)
    tables = {table for table, _column, _needle in before}
    # The seeding reached every place this test is about.
    for table in (
        "donors_donor", "campaigns_donationintent", "campaigns_stripeevent",
        "receipts_receiptemail", "receipts_receipt", "wagtailcore_modellogentry",
        "donors_donormerge", "donor_imports_importrow", "donor_imports_payeralias",
        "donor_imports_spreadsheetimport", "donors_household", "donors_gift",
        "donors_consent", "donors_duplicatedismissal", "account_emailaddress",
        "auth_user", "donor_portal_deletionrequest", "django_session",
        "taggit_tag",
    ):  # fmt: skip
        assert table in tables, table
    user = donor.user
    assert _sessions_of(user)
    subscription = RecurringGift.objects.get(donor=donor).stripe_subscription_id
    gifts = set(Gift.objects.filter(donor=donor).values_list("pk", "amount_yen"))
    receipts = set(Receipt.objects.filter(donor=donor).values_list("pk", "pdf_sha256"))

    staff_client = Client(HTTP_ACCEPT_LANGUAGE="en")
    staff_client.force_login(staff)
    request = DeletionRequest.objects.get(donor=donor)
    with on_commit():
        response = staff_client.post(
            reverse("donor_portal_admin:deletion_request", args=[request.pk]),
            {"action": "process", "staff_note": f"本人確認済み（{FAMILY}様、{PHONE}）"},
        )
    assert response.status_code == 302

    hits = personal_data_hits(NEEDLES)
    unexpected = {h for h in hits if (h[0], h[1]) not in KEPT}
    assert not unexpected, sorted(unexpected)
    assert {(t, c) for t, c, _n in hits} == set(KEPT)  # the receipts are kept

    # What the law keeps is intact: the gifts, and the receipts with their PDFs.
    assert set(Gift.objects.filter(donor=donor).values_list("pk", "amount_yen")) == (
        gifts
    )
    assert (
        set(Receipt.objects.filter(donor=donor).values_list("pk", "pdf_sha256"))
        == receipts
    )
    assert all(r.pdf_is_intact() for r in Receipt.objects.filter(donor=donor))
    # Bank records keep amount, date and reference; the monthly gift stopped at
    # Stripe too; the account cannot sign in.
    row = ImportRow.objects.get(donor_id=donor.pk)
    assert (row.amount_yen, row.payer_name, row.received_on) == (
        12000,
        "",
        dt.date(2026, 11, 1),
    )
    assert "*****" in row.raw and len(row.raw) == 200
    assert not PayerAlias.objects.filter(donor=donor).exists()
    assert fake_stripe.requests_to("delete", f"/v1/subscriptions/{subscription}")
    assert RecurringGift.objects.get(donor=donor).status == "cancelled"
    user.refresh_from_db()
    assert not _sessions_of(user)
    assert not user.is_active and not user.has_usable_password()
    assert not Client().login(username=EMAIL, password=PASSWORD)
    assert not Household.objects.filter(name__contains="家").exists()
    assert DonorMerge.objects.get(survivor=donor).snapshot["email"] == "[redacted]"

    # The erasure's own audit entry names ids and counts, nothing else.
    entry = ModelLogEntry.objects.filter(action="donors.donor.anonymised").get()
    assert entry.label == f"#{donor.pk}"
    assert set(entry.data) == {"donors", "users", "counts"}
    assert all(isinstance(v, int) for v in entry.data["counts"].values())
    merged = list(Donor.objects.filter(merged_into=donor).values_list("pk", flat=True))
    assert len(merged) == 1 and entry.data["donors"] == sorted([donor.pk, *merged])

    # Idempotent: processing again is refused and changes nothing; erasing the
    # donor again finds nothing and writes no second entry.
    with on_commit():
        again = staff_client.post(
            reverse("donor_portal_admin:deletion_request", args=[request.pk]),
            {"action": "process"},
        )
    assert again.status_code == 302
    donor_anonymise(donor=donor, user=staff)
    entries = ModelLogEntry.objects.filter(action="donors.donor.anonymised")
    assert entries.count() == 1
    assert personal_data_hits(NEEDLES) == hits


def test_a_payment_after_erasure_goes_to_the_nameless_donor(
    client, fake_stripe, campaign, django_capture_on_commit_callbacks
):
    """A checkout paid after the erasure (the webhook was late) records the gift
    on the erased donor; it does not bring the form's data back."""

    def on_commit():
        return django_capture_on_commit_callbacks(execute=True)

    response = client.post(campaign.url, FORM, REMOTE_ADDR="198.51.100.24")
    assert response.status_code == 303
    intent = DonationIntent.objects.get()
    donor = DonorFactory(family_name=FAMILY, given_name=GIVEN, email=EMAIL)
    staff = staff_user(Role.FUNDRAISER)
    request = deletion_request_create(donor=donor, user=None)
    deletion_request_process(deletion_request=request, user=staff)
    intent.refresh_from_db()
    assert (intent.email, intent.family_name, intent.donor_id) == ("", "", donor.pk)
    session = fs.checkout_session_obj(
        session_id=intent.checkout_session_id,
        intent_uuid=str(intent.uuid),
        money=intent.money,
        suffix=intent.uuid.hex[:16],
    )
    event = _deliver(client, on_commit, "checkout.session.completed", session)
    assert event.status == StripeEvent.Status.DONE, event.error
    assert Gift.objects.get().donor_id == donor.pk
    assert Donor.objects.count() == 1
    assert not {h for h in personal_data_hits(NEEDLES) if h[0] != "receipts_receipt"}
