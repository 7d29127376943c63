"""Receipt PDFs are private: only the donor (portal) and staff with
``receipts.view_receipt`` fetch one, by no other URL; names are not guessable;
a rolled-back issue leaves no file and a committed receipt always has its own."""

import datetime as dt
import hashlib
import io
import re
import threading
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.urls import reverse
from django.utils import translation
from PIL import Image
from wagtail.models import Site

from donors.receipts.models import Receipt, ReceiptSettings
from donors.receipts.services import receipt_issue_single
from kyosei.private_files import private_files_deleted_on_error, private_storage
from kyosei.roles import Role
from tests.donors.portal.conftest import portal_donor
from tests.donors.receipts.conftest import jp_donor
from tests.factories.donors import make_gift
from tests.factories.users import staff_user
from tests.kyosei.test_private_files import debug_urlconf, stored_files

DAY = dt.date(2026, 6, 1)


def issue(donor) -> Receipt:
    gift = make_gift(donor=donor, amount=5_000, received_on=DAY)
    return receipt_issue_single(gift=gift, user=None, send_email=False)


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def every_url(receipt: Receipt) -> list[str]:
    """Every way one might try to fetch the PDF: the two views (all languages),
    the media folder under its stored name, its old public name and the
    private folder's name, and Wagtail's document server."""
    pk, name, number = receipt.pk, receipt.pdf.name, receipt.number
    return [
        f"/portal/receipts/{pk}/pdf/",
        f"/en/portal/receipts/{pk}/pdf/",
        f"/vi/portal/receipts/{pk}/pdf/",
        f"/admin/receipts/{pk}/pdf/",
        f"/admin/receipts/{pk}/",
        f"/media/{name}",
        f"/media/receipts/{receipt.year}/{number}.pdf",
        f"/media/receipts/{DAY.year}/{number}.pdf",
        f"/media/private/{name}",
        f"/private/{name}",
        f"/documents/{pk}/{number}.pdf",
    ]


@pytest.mark.django_db
def test_nobody_else_fetches_a_receipt_pdf_by_any_url(client, settings, profile):
    settings.ROOT_URLCONF = debug_urlconf()  # as `make run`, /media/ served
    client.raise_request_exception = False
    owner_donor, owner = portal_donor("alice")
    _other_donor, other = portal_donor("bob", family_name="佐藤")
    receipt = issue(owner_donor)
    pdf = receipt.pdf_bytes()
    strangers = [
        None,
        other,
        staff_user(Role.BOARD),
        staff_user(Role.CASEWORKER),
        staff_user(Role.EDITOR),
    ]
    for user in strangers:
        client.logout()
        if user is not None:
            client.force_login(user)
        for url in every_url(receipt):
            response = client.get(url)
            assert response.status_code in (302, 403, 404), (user, url)
            assert pdf not in body(response), (user, url)


@pytest.mark.django_db
def test_the_owner_and_permitted_staff_fetch_it(client, profile):
    owner_donor, owner = portal_donor("alice")
    receipt = issue(owner_donor)
    pdf = receipt.pdf_bytes()
    client.force_login(owner)
    for url in every_url(receipt)[:3]:
        response = client.get(url)
        assert response.status_code == 200 and body(response) == pdf, url
        assert response["Content-Type"] == "application/pdf"
        assert response["Cache-Control"] == "private, no-store"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"] == (
            f'attachment; filename="receipt-{receipt.number}.pdf"'
        )
    assert client.get(f"/admin/receipts/{receipt.pk}/pdf/").status_code == 302
    for role in (Role.FUNDRAISER, Role.FINANCE, Role.ADMIN):
        client.force_login(staff_user(role, username=f"{role}-x"))
        response = client.get(reverse("receipts:pdf", args=[receipt.pk]))
        assert response.status_code == 200 and body(response) == pdf
        # (the admin adds never_cache's own directives)
        directives = set(response["Cache-Control"].split(", "))
        assert {"private", "no-store"} <= directives


@pytest.mark.django_db
def test_pdf_name_says_nothing_and_lives_outside_media(settings, profile):
    receipts = [issue(jp_donor(email="")) for _ in range(3)]
    names = [r.pdf.name for r in receipts]
    for receipt in receipts:
        assert re.fullmatch(r"receipts/\d{4}/[0-9a-f]{32}\.pdf", receipt.pdf.name)
        assert receipt.number not in receipt.pdf.name
        assert receipt.number.split("-")[1] not in receipt.pdf.name
    assert len(set(names)) == 3
    media = Path(settings.MEDIA_ROOT)
    assert stored_files(media) == []
    private = Path(settings.KYOSEI_PRIVATE_ROOT).resolve()
    assert not private.is_relative_to(media.resolve())


@pytest.mark.django_db
def test_a_missing_file_is_a_404_not_a_500(client, profile):
    donor, user = portal_donor("alice")
    receipt = issue(donor)
    private_storage().delete(receipt.pdf.name)
    client.force_login(user)
    assert client.get(f"/portal/receipts/{receipt.pk}/pdf/").status_code == 404
    assert not receipt.pdf_is_intact()


# -- the file and the row commit together --------------------------------------------


def _ghost():
    """A staff user deleted meanwhile: the audit entry refuses it after the PDF
    was written, and the issuing transaction rolls back."""
    return get_user_model()(pk=987_654, username="deleted-meanwhile")


@pytest.mark.django_db
def test_a_failure_after_the_write_leaves_no_file(profile, _private_files):
    gift = make_gift(donor=jp_donor(email=""), amount=5_000, received_on=DAY)
    with pytest.raises(ValidationError):
        receipt_issue_single(gift=gift, user=_ghost(), send_email=False)
    assert not Receipt.objects.exists()
    assert stored_files(_private_files) == []

    receipt = receipt_issue_single(gift=gift, user=None, send_email=False)
    assert receipt.number.endswith("-000001")  # the number came back too
    assert stored_files(_private_files) == [_private_files / receipt.pdf.name]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_committed_receipts_always_have_their_file_and_failed_ones_none(
    profile, _private_files
):
    """Issuers in parallel threads, every other one failing after its write:
    each committed receipt has its PDF with the recorded hash, and no other
    file is left."""
    gifts = [
        make_gift(donor=jp_donor(email=""), amount=1_000 + i, received_on=DAY)
        for i in range(6)
    ]
    errors = []

    def issue_one(index):
        try:
            with translation.override("en"):
                user = _ghost() if index % 2 else None
                receipt_issue_single(gift=gifts[index], user=user, send_email=False)
        except ValidationError as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue_one, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 3
    committed = list(Receipt.objects.order_by("number"))
    assert [r.number[-1] for r in committed] == ["1", "2", "3"]
    assert stored_files(_private_files) == sorted(
        _private_files / r.pdf.name for r in committed
    )
    for receipt in committed:
        data = private_storage().open(receipt.pdf.name).read()
        assert hashlib.sha256(data).hexdigest() == receipt.pdf_sha256


def _broker_down():
    raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_hook_failing_after_commit_keeps_the_committed_pdf(profile, _private_files):
    """An on-commit callback that fails (a broker down) raises out of the atomic
    block after the COMMIT: the receipt stands, so its PDF must stay."""
    gift = make_gift(donor=jp_donor(email=""), amount=5_000, received_on=DAY)
    with pytest.raises(ConnectionError):
        with private_files_deleted_on_error(), transaction.atomic():
            transaction.on_commit(_broker_down)  # registered first, runs first
            receipt = receipt_issue_single(gift=gift, user=None, send_email=False)
    stored = Receipt.objects.get(pk=receipt.pk)
    assert stored_files(_private_files) == [_private_files / stored.pdf.name]
    assert stored.pdf_is_intact()


@pytest.mark.django_db
def test_rollback_of_the_enclosing_transaction_deletes_the_pdf(profile, _private_files):
    with pytest.raises(RuntimeError):
        with private_files_deleted_on_error(), transaction.atomic():
            receipt = issue(jp_donor(email=""))
            assert private_storage().exists(receipt.pdf.name)
            raise RuntimeError("killed after the PDF was written")
    assert stored_files(_private_files) == []
    assert not Receipt.objects.exists()


# -- the seal -------------------------------------------------------------------------


@pytest.mark.django_db
def test_seal_is_private_and_its_settings_page_works(client, profile):
    site = Site.objects.get(is_default_site=True)
    url = reverse("wagtailsettings:edit", args=["receipts", "receiptsettings", site.pk])
    client.force_login(staff_user(Role.ADMIN))
    png = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 30, 30)).save(png, "PNG")
    form = {
        "seal": SimpleUploadedFile("inkan.png", png.getvalue()),
        "closing_note_ja": "ありがとう",
        "closing_note_en": "Thanks",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    seal = ReceiptSettings.for_site(site).seal
    assert re.fullmatch(r"receipts/seal/\d{4}/[0-9a-f]{32}\.png", seal.name)
    assert private_storage().open(seal.name).read() == png.getvalue()
    page = client.get(url).content.decode()
    assert seal.name.rsplit("/", 1)[1] in page and "/media/" not in page
    # a receipt printed with it
    receipt = issue(jp_donor(email=""))
    assert receipt.pdf_is_intact()
