"""Portal receipts: a donor downloads and reissues only their own receipts."""

import datetime as dt

import pytest

from donors.receipts.models import Receipt
from donors.receipts.services import receipt_issue_single
from kyosei.models import organisation_profile
from tests.factories.donors import make_gift

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    profile = organisation_profile()
    profile.legal_name_ja = "特定非営利活動法人 ひだまり共生ネット"
    profile.postal_code = "169-0073"
    profile.address_ja = "東京都新宿区百人町1-2-3"
    profile.save()


def issued(donor) -> Receipt:
    gift = make_gift(donor=donor, amount=5_000, received_on=dt.date(2026, 5, 1))
    return receipt_issue_single(gift=gift, user=None, send_email=False)


def test_download_own_receipt_only(client, alice, bob):
    (a, a_user), (b, _b_user) = alice, bob
    mine, theirs = issued(a), issued(b)
    client.force_login(a_user)
    page = client.get("/en/portal/receipts/").content.decode()
    assert mine.number in page and theirs.number not in page
    response = client.get(f"/portal/receipts/{mine.pk}/pdf/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == mine.pdf_bytes()
    assert client.get(f"/portal/receipts/{theirs.pk}/pdf/").status_code == 404
    response = client.post(f"/portal/receipts/{theirs.pk}/reissue/", {"reason": "lost"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Receipt.Status.ISSUED


def test_reissue_voids_the_old_and_old_is_not_served(client, alice):
    donor, user = alice
    old = issued(donor)
    client.force_login(user)
    response = client.post(
        f"/portal/receipts/{old.pk}/reissue/", {"reason": "details_changed"}
    )
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.status == Receipt.Status.VOID
    new = Receipt.objects.get(replaces=old)
    assert new.kind == Receipt.Kind.REISSUE and new.donor == donor
    assert "Requested by the donor" in old.void_reason
    assert client.get(f"/portal/receipts/{old.pk}/pdf/").status_code == 404
    assert client.get(f"/portal/receipts/{new.pk}/pdf/").status_code == 200
    # reissuing the voided one is refused with the service's message
    response = client.post(
        f"/en/portal/receipts/{old.pk}/reissue/", {"reason": "lost"}, follow=True
    )
    assert "is void and cannot be reissued" in response.content.decode()
