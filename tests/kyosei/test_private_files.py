"""The private storage: where private files live, their names, no URL, the
rollback guard, the orphan sweep, and the start-up checks."""

import datetime as dt
import os
import re
import time
import types
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import InMemoryStorage, Storage
from django.core.management import call_command
from django.db import models, transaction
from django.test import override_settings

from donors.imports.models import ImportBatch, SpreadsheetImport
from donors.receipts.models import Receipt, ReceiptSettings
from kyosei.migration_ops import move_files_to_private
from kyosei.private_files import (
    RandomName,
    private_file_fields,
    private_file_local_path,
    private_file_save,
    private_files_deleted_on_error,
    private_orphans_delete,
    private_storage,
)
from kyosei.urls import debug_media_urlpatterns
from kyosei.urls import urlpatterns as site_urlpatterns
from tests.kyosei.test_settings_env import PRODUCTION_ENV, ROOT, _manage


def debug_urlconf() -> types.ModuleType:
    """The URL configuration as `make run` (DEBUG=1) builds it, for the current
    MEDIA_ROOT."""
    module = types.ModuleType("debug_urls")
    with override_settings(DEBUG=True):
        module.urlpatterns = debug_media_urlpatterns() + site_urlpatterns
    return module


PROJECT_APPS = {"kyosei", "grants", "donors", "donor_imports", "receipts", "portal"}
PROJECT_APPS |= {"campaigns", "impact"}
RANDOM = re.compile(r"^(?P<prefix>.+)/(?P<year>\d{4})/[0-9a-f]{32}(\.[a-z0-9]+)?$")


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def make_old(name: str, hours: float = 48) -> None:
    path = private_storage().path(name)
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


# -- where and how -------------------------------------------------------------------


def test_every_file_field_of_the_project_is_private():
    """Receipt PDFs, the seal and both uploads — and any FileField added later
    to a Kyosei app — use the private storage (Wagtail's images and documents,
    which are public or privacy-checked by Wagtail, are not Kyosei's)."""
    private = {(m._meta.label, name) for m, name in private_file_fields()}
    assert private == {
        ("receipts.Receipt", "pdf"),
        ("receipts.ReceiptSettings", "seal"),
        ("donor_imports.ImportBatch", "upload"),
        ("donor_imports.SpreadsheetImport", "upload"),
    }
    ours = {
        (m._meta.label, f.name)
        for m in apps.get_models()
        if m._meta.app_label in PROJECT_APPS
        for f in m._meta.get_fields()
        if isinstance(f, models.FileField)
    }
    assert ours == private


def test_private_files_have_no_url_and_random_names(_private_files):
    holder = Receipt(number="2026-000123")
    name = private_file_save(holder.pdf, "2026-000123.pdf", ContentFile(b"%PDF"))
    assert RANDOM.match(name) and name.startswith("receipts/")
    assert "000123" not in name
    with pytest.raises(ValueError, match="no URL"):
        holder.pdf.url  # noqa: B018
    path = Path(private_storage().path(name))
    assert path.is_relative_to(_private_files)
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    media = Path(settings.MEDIA_ROOT).resolve()
    assert not path.resolve().is_relative_to(media)


def test_random_name_keeps_only_a_plain_extension():
    name_for = RandomName("imports/spreadsheets")
    assert name_for(None, "寄附者 山田.XLSX").endswith(".xlsx")
    assert not name_for(None, "statement").rpartition("/")[2].count(".")
    assert not name_for(None, "x.p h/p").endswith("p")
    names = {name_for(None, "a.csv") for _ in range(100)}
    assert len(names) == 100


def test_no_template_links_to_a_private_file():
    pattern = re.compile(r"\.(pdf|upload|seal)\.url\b")
    hits = [
        str(path)
        for path in (ROOT / "templates").rglob("*")
        if path.is_file() and pattern.search(path.read_text(errors="ignore"))
    ]
    assert hits == []


@pytest.mark.django_db
def test_debug_media_serves_public_images_only(client, settings, tmp_path):
    """With DEBUG (make run) /media/ serves Wagtail's images, nothing else: not
    documents (Wagtail's serve view checks their privacy), not a receipt or an
    upload even if an old one were still in the media folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ROOT_URLCONF = debug_urlconf()
    for folder in ("images", "documents", "receipts/2026", "imports/2026/05"):
        (tmp_path / "media" / folder).mkdir(parents=True)
        (tmp_path / "media" / folder / "f.txt").write_text("x")
    assert client.get("/media/images/f.txt").status_code == 200
    for url in (
        "/media/documents/f.txt",
        "/media/receipts/2026/f.txt",
        "/media/imports/2026/05/f.txt",
        "/media/../private/f.txt",
    ):
        assert client.get(url).status_code == 404, url


# -- rollback and orphans ------------------------------------------------------------


@pytest.mark.django_db
def test_files_written_in_a_failed_block_are_deleted(_private_files):
    outer = ImportBatch(file_name="a.txt")
    with pytest.raises(RuntimeError):
        with private_files_deleted_on_error(), transaction.atomic():
            first = private_file_save(outer.upload, "a.txt", ContentFile(b"1"))
            # an inner guarded service that succeeded hands its files outward
            with private_files_deleted_on_error():
                inner = private_file_save(
                    ImportBatch().upload, "b.txt", ContentFile(b"2")
                )
            assert private_storage().exists(first) and private_storage().exists(inner)
            raise RuntimeError("the transaction rolls back after the writes")
    assert stored_files(_private_files) == []


@pytest.mark.django_db
def test_files_of_a_successful_block_stay(_private_files):
    with private_files_deleted_on_error(), transaction.atomic():
        name = private_file_save(ImportBatch().upload, "a.txt", ContentFile(b"1"))
    assert private_storage().exists(name)


def _referenced_files() -> list[str]:
    """One file of each private field, each named by its row."""
    from django.utils import timezone
    from wagtail.models import Site

    from tests.factories.donors import DonorFactory

    receipt = Receipt(
        number="2026-000001",
        kind=Receipt.Kind.SINGLE,
        donor=DonorFactory(),
        year=2026,
        total_yen=1000,
        language="ja",
        certified=False,
        donor_name="山田 花子",
        donor_address="東京都",
        pdf_sha256="0" * 64,
        issued_at=timezone.now(),
    )
    private_file_save(receipt.pdf, "r.pdf", ContentFile(b"%PDF"))
    receipt.save()
    seal = ReceiptSettings.for_site(Site.objects.get(is_default_site=True))
    seal.seal.save("seal.png", ContentFile(b"png"))
    batch = ImportBatch(file_name="a.txt", file_sha256="0" * 64, format="zengin")
    batch.upload.save("a.txt", ContentFile(b"zengin"))
    sheet = SpreadsheetImport(kind="donors", file_name="a.csv", file_sha256="0" * 64)
    sheet.upload.save("a.csv", ContentFile(b"a,b"))
    return [receipt.pdf.name, seal.seal.name, batch.upload.name, sheet.upload.name]


@pytest.mark.django_db
def test_sweep_deletes_old_orphans_only(_private_files):
    referenced = _referenced_files()
    orphan = private_storage().save(
        "receipts/2026/0123456789abcdef0123456789abcdef.pdf", ContentFile(b"x")
    )
    young = private_storage().save(
        "imports/transfers/2026/young.txt", ContentFile(b"y")
    )
    for name in [*referenced, orphan]:
        make_old(name)

    dry = private_orphans_delete(older_than=dt.timedelta(hours=24), dry_run=True)
    assert dry.deleted == [orphan] and private_storage().exists(orphan)

    result = private_orphans_delete(older_than=dt.timedelta(hours=24))
    assert result.deleted == [orphan] and result.scanned == 6 and result.recent == 1
    assert not private_storage().exists(orphan)
    for name in [*referenced, young]:
        assert private_storage().exists(name)
    # with no age limit the young orphan goes too; a referenced file never does
    with open(os.devnull, "w") as out:
        call_command("cleanup_orphan_files", "--hours", "0", stdout=out)
    assert not private_storage().exists(young)
    for name in referenced:
        assert private_storage().exists(name)


@pytest.mark.django_db
def test_sweep_of_an_empty_storage(_private_files):
    assert private_orphans_delete(older_than=dt.timedelta(0)).scanned == 0


# -- reading through a path ------------------------------------------------------------


class NoPathStorage(Storage):
    """Like S3: files, but no path on this machine (``Storage.path`` raises)."""

    def __init__(self):
        self._memory = InMemoryStorage()

    def _open(self, name, mode="rb"):
        return self._memory.open(name, mode)

    def _save(self, name, content):
        return self._memory.save(name, content)

    def exists(self, name):
        return self._memory.exists(name)


def test_local_path_of_a_storage_without_paths():
    """S3 has no local path: readers that need one get a temporary copy."""
    memory = NoPathStorage()
    name = memory.save("imports/transfers/2026/x.txt", ContentFile(b"zengin"))
    field = ImportBatch._meta.get_field("upload")
    fieldfile = field.attr_class(ImportBatch(), field, name)
    fieldfile.storage = memory
    with private_file_local_path(fieldfile) as path:
        assert Path(path).read_bytes() == b"zengin"
    assert not Path(path).exists()


# -- moving files of an existing installation ----------------------------------------


@pytest.mark.django_db
def test_migration_moves_public_files_to_private(
    settings, tmp_path, _private_files, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    old = "imports/spreadsheets/2026/05/donors-2026.csv"
    (tmp_path / "media" / old).parent.mkdir(parents=True)
    (tmp_path / "media" / old).write_bytes(b"a,b\n")
    record = SpreadsheetImport.objects.create(
        kind="donors", file_name="donors-2026.csv", file_sha256="0" * 64, upload=old
    )
    operation = move_files_to_private(
        "donor_imports", "SpreadsheetImport", "upload", "imports/spreadsheets"
    )
    with django_capture_on_commit_callbacks(execute=True):
        operation.code(apps, None)
    record.refresh_from_db()
    assert RANDOM.match(record.upload.name)
    assert private_storage().open(record.upload.name).read() == b"a,b\n"
    assert not (tmp_path / "media" / old).exists()
    operation.code(apps, None)  # again: nothing left to move
    record.refresh_from_db()
    assert private_storage().exists(record.upload.name)


# -- configuration ---------------------------------------------------------------------


def _private_config(env) -> dict[str, str]:
    """The private storage a production start-up with ``env`` builds."""
    code = (
        "from django.conf import settings\n"
        "from django.core.files.storage import storages\n"
        "s = storages['private']\n"
        "try:\n    s.url('receipts/x.pdf')\nexcept ValueError:\n    url = 'none'\n"
        "else:\n    url = 'yes'\n"
        "for key, value in [('class', type(s).__name__), ('url', url),"
        " ('media', settings.MEDIA_ROOT)] + [(a, getattr(s, a, '-')) for a in"
        " ('location', 'bucket_name', 'endpoint_url', 'region_name',"
        " 'file_overwrite', 'default_acl', 'querystring_auth')]:\n"
        "    print(f'{key}={value}')\n"
    )
    result = _manage("shell", "-c", code, env={**PRODUCTION_ENV, **env})
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "=" in line]
    return dict(line.split("=", 1) for line in lines)


def test_default_private_root_is_outside_media():
    config = _private_config({})
    assert config["class"] == "PrivateFileSystemStorage" and config["url"] == "none"
    assert config["location"] == str(ROOT / "var" / "test" / "private")
    assert not Path(config["location"]).is_relative_to(config["media"])


@pytest.mark.parametrize(
    "env",
    [
        {"KYOSEI_PRIVATE_ROOT": str(ROOT / "var" / "test" / "media" / "private")},
        {"MEDIA_ROOT": str(ROOT / "var" / "test")},
        {"KYOSEI_PRIVATE_ROOT": str(ROOT / "var" / "test" / "static")},
    ],
)
def test_private_root_inside_a_public_folder_stops_start_up(env):
    result = _manage("check", env={**PRODUCTION_ENV, **env})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "KYOSEI_PRIVATE_ROOT" in lines[0], result.stderr


def test_s3_private_storage_from_the_environment():
    pytest.importorskip("storages.backends.s3")
    config = _private_config(
        {
            "KYOSEI_PRIVATE_STORAGE": "s3",
            "KYOSEI_PRIVATE_S3_BUCKET": "kyosei-private",
            "KYOSEI_PRIVATE_S3_ENDPOINT_URL": "https://s3.example.jp",
            "KYOSEI_PRIVATE_S3_REGION": "ap-northeast-1",
            "KYOSEI_PRIVATE_S3_PREFIX": "/kyosei/",
        }
    )
    assert config == {
        "class": "PrivateS3Storage",
        "url": "none",  # not even a signed URL
        "media": str(ROOT / "var" / "test" / "media"),
        "location": "kyosei",
        "bucket_name": "kyosei-private",
        "endpoint_url": "https://s3.example.jp",
        "region_name": "ap-northeast-1",
        "file_overwrite": "False",  # an issued PDF is never replaced
        "default_acl": "None",  # the private bucket's policy decides
        "querystring_auth": "True",
    }


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"KYOSEI_PRIVATE_STORAGE": "s3"}, "KYOSEI_PRIVATE_S3_BUCKET"),
        ({"KYOSEI_PRIVATE_STORAGE": "ftp"}, "KYOSEI_PRIVATE_STORAGE"),
        (
            {
                "KYOSEI_PRIVATE_STORAGE": "s3",
                "KYOSEI_PRIVATE_S3_BUCKET": "b",
                "KYOSEI_PRIVATE_S3_ENDPOINT_URL": "s3.example.jp",
            },
            "KYOSEI_PRIVATE_S3_ENDPOINT_URL",
        ),
    ],
)
def test_bad_private_storage_settings_stop_start_up(env, variable):
    result = _manage("check", env={**PRODUCTION_ENV, **env})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0], result.stderr
