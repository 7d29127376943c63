"""Private files: receipt PDFs, the receipt seal (a signature stamp), uploaded bank
statements and spreadsheets.

- **Where**: ``STORAGES["private"]``, a folder outside ``MEDIA_ROOT``
  (``KYOSEI_PRIVATE_ROOT``, files ``0600``) or a private S3-compatible bucket
  (``KYOSEI_PRIVATE_STORAGE=s3``, :mod:`kyosei.storage_s3`). Neither backend
  gives a file a URL (``url()`` raises), so no template can link to one.
- **Served** only by :func:`private_file_response`, from views that check the
  user first (the donor portal: the donor's own receipts; staff: by permission).
- **Names** are random (:class:`RandomName`, ``receipts/2026/<32 hex>.pdf``): a
  name says nothing about the receipt, donor or file and cannot be guessed.
- **Written before the row that names it commits**, so every committed row has
  its file. Services that write one save it with :func:`private_file_save`
  inside :func:`private_files_deleted_on_error`, which deletes the files again
  when the service's transaction rolls back. A process killed in between, or a
  caller's outer transaction that rolls back later, leaves an orphan that
  :func:`private_orphans_delete` (``manage.py cleanup_orphan_files``, daily in
  beat) removes once it is older than a day. Every file in the private storage
  must therefore be named by a ``FileField`` that uses it: anything else is
  swept as an orphan.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import posixpath
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django import forms
from django.apps import apps
from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.signals import setting_changed
from django.db import models
from django.db.models.fields.files import FieldFile
from django.dispatch import receiver
from django.forms.utils import flatatt
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.functional import LazyObject, cached_property, empty
from django.utils.html import format_html

logger = logging.getLogger(__name__)

PRIVATE = "private"  # the STORAGES alias
NO_URL = (
    "Private files have no URL; serve them with "
    "kyosei.private_files.private_file_response after checking the user."
)


class PrivateFileSystemStorage(FileSystemStorage):
    """A folder outside ``MEDIA_ROOT`` whose files have no URL.

    The folder is ``location`` if given, else the ``KYOSEI_PRIVATE_ROOT`` setting
    (read when first used, so a test can point it elsewhere). Files are readable
    by the application's own system user only.
    """

    def __init__(self, location=None, **kwargs):
        kwargs.pop("base_url", None)
        kwargs.setdefault("file_permissions_mode", 0o600)
        kwargs.setdefault("directory_permissions_mode", 0o700)
        super().__init__(location=location, **kwargs)

    @cached_property
    def base_location(self):
        return self._value_or_setting(self._location, settings.KYOSEI_PRIVATE_ROOT)

    @cached_property
    def location(self):
        return os.path.abspath(self.base_location)

    def _clear_cached_properties(self, setting, **kwargs):
        super()._clear_cached_properties(setting, **kwargs)
        if setting == "KYOSEI_PRIVATE_ROOT":
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)

    def url(self, name):
        raise ValueError(NO_URL)


class PrivateStorage(LazyObject):
    """``storages["private"]``, looked up when first used (like Django's
    ``default_storage``), and again after a test changes ``STORAGES``."""

    def _setup(self):
        self._wrapped = storages[PRIVATE]


private = PrivateStorage()


@receiver(setting_changed)
def _private_storage_changed(*, setting, **kwargs):
    if setting == "STORAGES":
        private._wrapped = empty


def private_storage() -> Storage:
    """The ``storage=`` of every private ``FileField`` (a callable, so migrations
    name it instead of freezing a backend)."""
    return private


@deconstructible
class RandomName:
    """``upload_to`` giving ``<prefix>/<year>/<uuid4 hex><.ext>``.

    Only the extension of the given file name is kept (letters and digits, up to
    eight); the rest is 122 random bits, so a name can be neither guessed nor
    read as a receipt number or a donor's file name.
    """

    def __init__(self, prefix: str):
        self.prefix = prefix.strip("/")

    def __call__(self, instance: object, filename: str) -> str:
        suffix = Path(filename or "").suffix.lower()
        if not re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
            suffix = ""
        year = timezone.localdate().year
        return f"{self.prefix}/{year}/{uuid.uuid4().hex}{suffix}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RandomName) and other.prefix == self.prefix

    def __hash__(self) -> int:
        return hash(self.prefix)


# -- writing: delete again when the transaction rolls back -------------------------

_guards = threading.local()


@dataclass(frozen=True)
class _Written:
    storage: Storage
    name: str
    model: type[models.Model]
    field: str


def _stack() -> list[list[_Written]]:
    if not hasattr(_guards, "stack"):
        _guards.stack = []
    return _guards.stack


@contextmanager
def private_files_deleted_on_error() -> Iterator[None]:
    """Delete the files saved with :func:`private_file_save` inside the block if
    the block raises (also usable as a decorator).

    Put it *outside* the service's ``transaction.atomic``: an exception that
    leaves an atomic block has rolled that block back, so no row names these
    files. One exception does not: an on-commit callback that fails after the
    COMMIT (a broker down) raises out of the atomic block too, so before
    deleting a file the database is asked whether a row names it; if it does,
    or the database cannot answer, the file stays (the sweep decides later).
    A nested block hands its files to the enclosing one, which decides for all.
    """
    stack = _stack()
    stack.append([])
    try:
        yield
    except BaseException:
        _delete_unnamed(stack.pop())
        raise
    written = stack.pop()
    if stack:
        stack[-1].extend(written)


def _delete_unnamed(written: list[_Written]) -> None:
    for file in written:
        try:
            named = file.model._base_manager.filter(**{file.field: file.name}).exists()
        except Exception:  # noqa: BLE001 - e.g. an aborted transaction: keep it
            logger.warning("Kept private file %s for the orphan sweep", file.name)
            continue
        if named:
            continue
        try:
            file.storage.delete(file.name)
        except Exception:  # noqa: BLE001 - the sweep removes what is left
            logger.exception("Could not delete the rolled-back file %s", file.name)


def private_file_save(fieldfile: FieldFile, filename: str, content: File) -> str:
    """Save ``content`` as ``fieldfile``'s file (the row is not saved) and return
    the stored name; deleted again if an enclosing
    :func:`private_files_deleted_on_error` block raises."""
    fieldfile.save(filename, content, save=False)
    stack = _stack()
    if stack:
        stack[-1].append(
            _Written(
                fieldfile.storage,
                fieldfile.name,
                type(fieldfile.instance),
                fieldfile.field.name,
            )
        )
    return fieldfile.name


# -- reading and serving ----------------------------------------------------------


def private_file_exists(fieldfile: FieldFile) -> bool:
    return bool(fieldfile) and fieldfile.storage.exists(fieldfile.name)


def private_file_response(
    fieldfile: FieldFile, *, filename: str, content_type: str
) -> FileResponse:
    """Stream a private file as a download no cache keeps (404 if it is missing).

    The caller has checked that the user may have it.
    """
    if not private_file_exists(fieldfile):
        raise Http404("No such file.")
    response = FileResponse(
        fieldfile.storage.open(fieldfile.name, "rb"),
        as_attachment=True,
        filename=filename,
        content_type=content_type,
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@contextmanager
def private_file_local_path(fieldfile: FieldFile) -> Iterator[str]:
    """A path on this machine holding the file's bytes: the file itself on a
    filesystem storage, else a temporary copy (an S3 bucket) removed afterwards."""
    try:
        path = fieldfile.path
    except NotImplementedError:
        path = None
    if path is not None:
        yield path
        return
    suffix = Path(fieldfile.name).suffix
    with (
        tempfile.NamedTemporaryFile(suffix=suffix) as copy,
        fieldfile.storage.open(fieldfile.name, "rb") as source,
    ):
        shutil.copyfileobj(source, copy)
        copy.flush()
        yield copy.name


class PrivateFileInput(forms.ClearableFileInput):
    """The admin's file input for a private file: names the current file with no
    link (it has no URL; Django's own widget would ask for one) and keeps the
    clear box."""

    def is_initial(self, value) -> bool:
        return bool(value and getattr(value, "name", ""))

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        upload = format_html(
            '<input type="file" name="{}"{}>', name, flatatt(widget["attrs"])
        )
        if not widget["is_initial"]:
            return upload
        clear = ""
        if not widget["required"]:
            clear = format_html(
                ' <input type="checkbox" name="{}" id="{}"> <label for="{}">{}</label>',
                widget["checkbox_name"],
                widget["checkbox_id"],
                widget["checkbox_id"],
                widget["clear_checkbox_label"],
            )
        return format_html(
            "{}: <code>{}</code>{}<br>{}: {}",
            widget["initial_text"],
            posixpath.basename(value.name),
            clear,
            widget["input_text"],
            upload,
        )


# -- the orphan sweep ----------------------------------------------------------------


def private_file_fields() -> list[tuple[type[models.Model], str]]:
    """Every (model, field name) whose ``FileField`` uses the private storage."""
    return [
        (model, f.name)
        for model in apps.get_models()
        for f in model._meta.get_fields()
        if isinstance(f, models.FileField) and f.storage is private
    ]


def private_names_in_use() -> set[str]:
    names: set[str] = set()
    for model, name in private_file_fields():
        names.update(
            model._base_manager.exclude(**{name: ""})
            .values_list(name, flat=True)
            .iterator(chunk_size=5000)
        )
    return names


def _walk(storage: Storage, top: str = "") -> Iterator[str]:
    try:
        folders, files = storage.listdir(top)
    except FileNotFoundError:  # nothing written yet
        return
    for name in files:
        yield posixpath.join(top, name)
    for folder in folders:
        yield from _walk(storage, posixpath.join(top, folder))


@dataclass
class SweepResult:
    scanned: int = 0
    recent: int = 0
    deleted: list[str] = field(default_factory=list)


def private_orphans_delete(
    *, older_than: dt.timedelta, dry_run: bool = False
) -> SweepResult:
    """Delete the private files no row names that are older than ``older_than``.

    A file is written before its row commits, so a young unnamed file may belong
    to a transaction still running: only files older than ``older_than`` (a day
    by default in the command) are candidates. Names are read after the files
    are listed, so a row committed meanwhile still protects its file. Never
    deletes a file that a row names, whatever its age.
    """
    storage = private_storage()
    cutoff = timezone.now() - older_than
    result = SweepResult()
    candidates = []
    for name in _walk(storage):
        result.scanned += 1
        if storage.get_modified_time(name) < cutoff:
            candidates.append(name)
        else:
            result.recent += 1
    in_use = private_names_in_use()
    for name in candidates:
        if name in in_use:
            continue
        if not dry_run:
            storage.delete(name)
        result.deleted.append(name)
    logger.info(
        "Private file sweep: %d files, %d orphans %s, %d too recent to judge",
        result.scanned,
        len(result.deleted),
        "found" if dry_run else "deleted",
        result.recent,
    )
    return result
