"""Staff screens: permissions per role, upload → task → progress → preview →
confirm with a picked donor → history → undo."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from donors.imports.models import ImportBatch, ImportRow, PayerAlias
from donors.models import Gift
from kyosei.roles import Role
from tests.factories.transfers import fixture, transfer_donors
from tests.factories.users import staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(tmp_path):
    with override_settings(MEDIA_ROOT=tmp_path):
        yield


def _upload_file(name="zengin_01.txt"):
    with open(fixture(name), "rb") as handle:
        return SimpleUploadedFile(name, handle.read())


def _allowed(response) -> bool:
    """Wagtail answers a denied admin view with a redirect to the dashboard."""
    if response.status_code == 403:
        return False
    return not (response.status_code == 302 and response["Location"] == "/admin/")


@pytest.mark.parametrize(
    ("role", "view", "add", "apply", "undo"),
    [
        # A Fundraiser uploads and previews; applying posts money: Finance.
        (Role.FUNDRAISER, True, True, False, False),
        (Role.FINANCE, True, True, True, True),
        (Role.BOARD, False, False, False, False),
        (Role.CASEWORKER, False, False, False, False),
        (Role.EDITOR, False, False, False, False),
    ],
)
def test_permissions_by_role(client, role, view, add, apply, undo):
    client.force_login(staff_user(role))
    batch = ImportBatch.objects.create(
        file_name="x", file_sha256="0" * 64, format="zengin"
    )
    assert _allowed(client.get(reverse("donor_imports:index"))) is view
    assert (
        _allowed(client.get(reverse("donor_imports:detail", args=[batch.pk]))) is view
    )
    assert (
        _allowed(client.get(reverse("donor_imports:progress", args=[batch.pk]))) is view
    )
    assert _allowed(client.get(reverse("donor_imports:upload"))) is add
    assert (
        _allowed(client.post(reverse("donor_imports:apply", args=[batch.pk]))) is apply
    )
    # Allowed undo redirects to the history (refused there: not applied).
    assert _allowed(client.post(reverse("donor_imports:undo", args=[batch.pk]))) is undo


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("donor_imports:index"))
    assert response.status_code == 302


def test_upload_preview_pick_donor_apply_and_undo(
    client, django_capture_on_commit_callbacks
):
    donors = transfer_donors()
    fundraiser = staff_user(Role.FUNDRAISER)
    client.force_login(fundraiser)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("donor_imports:upload"),
            {"file": _upload_file(), "format": "zengin", "encoding": "auto"},
        )
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    assert batch.created_by == fundraiser
    progress = client.get(reverse("donor_imports:progress", args=[batch.pk])).json()
    assert progress["status"] == "preview" and progress["percent"] == 100
    assert progress["done"]

    page = client.get(response["Location"])
    assert page.status_code == 200
    content = page.content.decode()
    assert "ｽｽﾞｷ ﾊﾅｺ" in content
    ambiguous = batch.rows.get(outcome=ImportRow.Outcome.AMBIGUOUS)
    # The Fundraiser previews; applying posts money, so Finance confirms.
    assert "Confirm and record" not in content
    assert "a Finance user confirms" in content
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("donor_imports:apply", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PREVIEW and Gift.objects.count() == 0
    finance = staff_user(Role.FINANCE)
    client.force_login(finance)
    content = client.get(response["Location"]).content.decode()
    assert "Confirm and record" in content
    assert f'name="row-{ambiguous.pk}"' in content

    # A donor who is not a candidate: refused, back to preview, reason shown.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("donor_imports:apply", args=[batch.pk]),
            {f"row-{ambiguous.pk}": str(donors["yamada"].pk)},
        )
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PREVIEW
    detail_url = reverse("donor_imports:detail", args=[batch.pk])
    # written by the apply task after the request, in the site's default language
    content = client.get(detail_url).content.decode()
    assert "not one of the candidates" in content or "候補に含まれていません" in content
    assert Gift.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("donor_imports:apply", args=[batch.pk]),
            {f"row-{ambiguous.pk}": str(donors["suzuki1"].pk)},
        )
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED
    assert Gift.objects.count() == 6
    assert PayerAlias.objects.filter(donor=donors["suzuki1"]).exists()
    assert (
        "zengin_01.txt" in client.get(reverse("donor_imports:index")).content.decode()
    )

    # A fundraiser may not undo; finance may.
    client.force_login(fundraiser)
    client.post(reverse("donor_imports:undo", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED
    client.force_login(finance)
    client.post(reverse("donor_imports:undo", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.UNDONE
    assert {g.status for g in Gift.objects.all()} == {Gift.Status.REFUNDED}


def test_refused_upload_shows_row_and_field(client, django_capture_on_commit_callbacks):
    client.force_login(staff_user(Role.FINANCE))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("donor_imports:upload"),
            {"file": _upload_file("bad_zengin_trailer.txt"), "format": "zengin",
             "encoding": "auto"},
        )  # fmt: skip
    page = client.get(response["Location"]).content.decode()
    assert "nothing was recorded" in page
    assert "振込合計金額" in page
    assert Gift.objects.count() == 0


def test_csv_upload_needs_a_profile(client):
    client.force_login(staff_user(Role.FINANCE))
    response = client.post(
        reverse("donor_imports:upload"),
        {"file": _upload_file("bank.csv"), "format": "csv", "encoding": "auto"},
    )
    assert response.status_code == 200
    assert not ImportBatch.objects.exists()


def test_profiles_are_managed_in_the_admin_by_finance_only(client):
    client.force_login(staff_user(Role.FINANCE))
    index = client.get("/admin/transfer_profiles/")
    assert index.status_code == 200
    assert "yucho" in index.content.decode()
    assert client.get("/admin/transfer_profiles/new/").status_code == 200
    client.force_login(staff_user(Role.FUNDRAISER))
    assert client.get("/admin/transfer_profiles/").status_code == 200  # view only
    assert not _allowed(client.get("/admin/transfer_profiles/new/"))
