"""Benchmark: import a realistic N-row 全銀 file against N existing donors.

Prints our end-to-end rate (read, match, donors for new payers, gifts, ledger
entries, audit rows, import rows — one transaction) beside a same-run
measurement of a default django-import-export ``ModelResource`` inserting the
same gifts as plain rows (rolled back). Run it on PostgreSQL::

    createdb -h 127.0.0.1 -U postgres kyosei_bench_import
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kyosei_bench_import \\
        python manage.py migrate
    DATABASE_URL=... python manage.py bench_import --rows 100000
"""

from __future__ import annotations

import datetime as dt
import os
import random
import tempfile
import time

import jaconv
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from donors.imports.readers.zengin import build_file
from donors.imports.services import transfer_import
from donors.models import Donor, Gift
from donors.services.donors import donor_refresh_keys
from grants.models import Fund

MARK = "bench_import"
# Unvoiced kana only: kana_key drops voiced marks, so these keep names distinct.
SYLLABLES = list(
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワ"
)


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument(
            "--new-payers",
            type=float,
            default=0.002,
            help="share of rows from payers who are not donors yet (default 0.2%%)",
        )
        parser.add_argument(
            "--compare-rows",
            type=int,
            default=5000,
            help="rows for the django-import-export run (it is slow; default 5000)",
        )
        parser.add_argument("--seed", type=int, default=20261123)
        parser.add_argument(
            "--staff-flow",
            action="store_true",
            help="also time the admin's way with another file of the same size: "
            "upload, read + match for the preview (the Celery task), apply, undo",
        )

    def handle(self, *args, **options):
        rows = options["rows"]
        rng = random.Random(options["seed"] + int(time.time()))
        self.stdout.write(f"database: {connection.vendor}")
        if connection.vendor != "postgresql":
            self.stdout.write(
                self.style.WARNING("not PostgreSQL: figures not comparable")
            )
        started = time.perf_counter()
        donors = self._donors(rows, rng)
        self.stdout.write(
            f"donors ready: {len(donors):,} ({time.perf_counter() - started:.1f}s)"
        )
        path = self._file(rows, donors, rng, options["new_payers"])
        size = os.path.getsize(path)
        self.stdout.write(f"file: {rows:,} data records, {size / 1048576:.1f} MB")

        timings: dict[str, float] = {}
        clock = [time.perf_counter()]

        def lap(name: str) -> None:
            now = time.perf_counter()
            timings[name] = now - clock[0]
            clock[0] = now

        gifts_before = Gift.objects.count()
        cpu = time.process_time()
        start = time.perf_counter()
        result = transfer_import(
            path=path, format="zengin", user=None, progress=_lap_at_end(lap)
        )
        total = time.perf_counter() - start
        cpu = time.process_time() - cpu
        counts = {k: v for k, v in result.counts.items() if k != "errors"}
        self.stdout.write(f"counts: {counts}")
        self.stdout.write(
            f"gifts written: {Gift.objects.count() - gifts_before:,} "
            f"(read+match {timings.get('match', 0):.2f}s, "
            f"apply {total - timings.get('match', 0):.2f}s; "
            f"this process's CPU {cpu:.2f}s, the rest is PostgreSQL and waiting)"
        )
        ours = rows / total
        self.stdout.write(
            self.style.SUCCESS(
                f"kyosei transfer_import: {rows:,} rows in {total:.2f}s = "
                f"{ours:,.0f} rows/s (matching, gifts, ledger, audit)"
            )
        )
        compare = min(options["compare_rows"], rows)
        theirs = self._import_export(compare, donors, rng)
        self.stdout.write(
            f"django-import-export ModelResource (defaults, plain Gift inserts, "
            f"{compare:,} rows): {theirs:,.0f} rows/s"
        )
        self.stdout.write(f"ratio: {ours / theirs:,.1f}×")
        os.remove(path)
        if options["staff_flow"]:
            self._staff_flow(rows, donors, rng, options["new_payers"])

    def _staff_flow(self, rows, donors, rng, new_share) -> None:
        """The admin's way: what the upload, preview, apply and undo tasks run."""
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.test import override_settings

        from donors.imports.services import (
            import_batch_apply,
            import_batch_create,
            import_batch_stage,
            import_batch_undo,
        )

        path = self._file(rows, donors, rng, new_share)
        with (
            tempfile.TemporaryDirectory() as media,
            override_settings(MEDIA_ROOT=media, KYOSEI_PRIVATE_ROOT=media),
        ):
            with open(path, "rb") as handle:
                upload = SimpleUploadedFile("statement.txt", handle.read())
            os.remove(path)
            laps = [time.perf_counter()]
            batch = import_batch_create(upload=upload, format="zengin", user=None)
            batch = import_batch_stage(batch_id=batch.pk)
            laps.append(time.perf_counter())
            batch = import_batch_apply(batch=batch, user=None)
            laps.append(time.perf_counter())
            gifts = batch.counts["gifts_created"]
            batch = import_batch_undo(batch=batch, user=None)
            laps.append(time.perf_counter())
        stage, apply, undo = (b - a for a, b in zip(laps, laps[1:], strict=False))
        self.stdout.write(
            f"staff flow, {rows:,} rows: upload + read + match for the preview "
            f"{stage:.2f}s, apply {apply:.2f}s ({gifts:,} gifts), "
            f"undo {undo:.2f}s (batch {batch.status})"
        )

    def _donors(self, count: int, rng: random.Random) -> list[tuple[int, str]]:
        """(id, kana name) of ``count`` bench donors with distinct kana keys."""
        existing = list(
            Donor.objects.filter(notes=MARK, merged_into__isnull=True)
            .order_by("pk")
            .values_list("pk", "family_name_kana", "given_name_kana")[:count]
        )
        if len(existing) >= count:
            return [(pk, f"{f} {g}") for pk, f, g in existing]
        keys = set(Donor.objects.values_list("kana_key", flat=True))
        new = []
        while len(existing) + len(new) < count:
            family = "".join(rng.choices(SYLLABLES, k=3))
            given = "".join(rng.choices(SYLLABLES, k=3))
            donor = Donor(
                family_name_kana=family,
                given_name_kana=given,
                source=Donor.Source.IMPORT,
                notes=MARK,
            )
            donor_refresh_keys(donor)
            if donor.kana_key in keys:
                continue
            keys.add(donor.kana_key)
            new.append(donor)
        with transaction.atomic():
            Donor.objects.bulk_create(new, batch_size=5000)
        return [(pk, f"{f} {g}") for pk, f, g in existing] + [
            (d.pk, f"{d.family_name_kana} {d.given_name_kana}") for d in new
        ]

    def _file(self, rows, donors, rng, new_share) -> str:
        today = dt.date.today()
        reiwa = today.year - 2018
        data = []
        for n in range(rows):
            if rng.random() < new_share:
                name = "ｼﾝｷ " + jaconv.z2h("".join(rng.choices(SYLLABLES, k=4)))
            else:
                name = jaconv.z2h(rng.choice(donors)[1], kana=True)
            day = today - dt.timedelta(days=1 + n % 300)
            yy = day.year - 2018 if day >= dt.date(2019, 5, 1) else reiwa
            booked = f"{yy:02d}{day.month:02d}{day.day:02d}"
            data.append(
                {
                    "inquiry_no": n + 1,
                    "booked_on": booked,
                    "value_date": booked,
                    "amount": rng.choice([1000, 3000, 5000, 10000, 30000]),
                    "payer_name": name,
                    "cancel": "0",
                }
            )
        content = build_file(
            kind_code="01",
            created_on=f"{reiwa:02d}{today.month:02d}{today.day:02d}",
            rows=data,
            account_number=rng.randrange(1_000_000, 9_999_999),
        )
        handle, path = tempfile.mkstemp(suffix=".zengin")
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        return path

    def _import_export(self, count, donors, rng) -> float:
        import tablib
        from import_export import resources

        class GiftResource(resources.ModelResource):
            class Meta:
                model = Gift
                fields = (
                    "id",
                    "donor",
                    "kind",
                    "amount",
                    "currency",
                    "amount_yen",
                    "received_on",
                    "method",
                    "fund",
                    "import_fingerprint",
                )

        fund = Fund.objects.get(code="general")
        day = (dt.date.today() - dt.timedelta(days=1)).isoformat()
        dataset = tablib.Dataset(headers=list(GiftResource.Meta.fields))
        for n in range(count):
            dataset.append(
                [
                    "",
                    rng.choice(donors)[0],
                    "donation",
                    5000,
                    "JPY",
                    5000,
                    day,
                    "bank_transfer",
                    fund.pk,
                    f"bench-iex-{rng.random()}-{n}",
                ]
            )
        start = time.perf_counter()
        with transaction.atomic():
            result = GiftResource().import_data(dataset, dry_run=False)
            elapsed = time.perf_counter() - start
            transaction.set_rollback(True)
        if result.has_errors():
            self.stdout.write(self.style.WARNING("import-export reported errors"))
        return count / elapsed


def _lap_at_end(lap):
    def progress(done: int, total: int) -> None:
        if done == total and not getattr(progress, "done", False):
            progress.done = True
            lap("match")

    return progress
