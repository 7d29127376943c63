"""python manage.py bench_receipts --donors 10000 [--workers N]

Prints two figures:

- **issue**: the annual batch end to end (``annual_batch_run``: locks, numbering,
  PDF, storage, audit) in one process, receipts per second;
- **render**: the receipt PDFs alone rendered by ``--workers`` processes, PDFs
  per second (the batch's CPU-bound part; the target is ≥ 50 PDFs/s).

Everything it writes is rolled back and its PDFs go to a temporary folder, so it
can run against a real database without leaving anything behind.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import multiprocessing
import os
import tempfile
import time

from django.core.management.base import BaseCommand
from django.db import transaction
from django.test import override_settings

from donors.models import Gift
from donors.receipts.batch import annual_batch_run
from donors.receipts.pdf import ReceiptDocument, ReceiptLine, render_receipt_pdf
from donors.services.donors import donor_create
from donors.services.gifts import gift_record
from grants.models import Fund
from kyosei.models import organisation_profile
from kyosei.money import Money

FAMILY = [
    "山田",
    "佐藤",
    "鈴木",
    "髙橋",
    "田中",
    "渡邊",
    "伊藤",
    "中村",
    "小林",
    "斎藤",
]
GIVEN = ["花子", "太郎", "美咲", "一郎", "陽菜", "蓮", "結衣", "大翔", "さくら", "悠真"]


class _Rollback(Exception):
    pass


def _render(doc: ReceiptDocument) -> int:
    return len(render_receipt_pdf(doc))


class Command(BaseCommand):
    help = "Benchmark annual receipts: issue rate and PDF render rate."

    def add_arguments(self, parser):
        parser.add_argument("--donors", type=int, default=10_000)
        parser.add_argument("--gifts", type=int, default=3, help="Gifts per donor.")
        parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
        parser.add_argument("--year", type=int, default=dt.date.today().year - 1)
        parser.add_argument(
            "--render-only", action="store_true", help="Skip the database part."
        )

    def handle(self, *args, donors: int, gifts: int, workers: int, year: int, **opts):
        docs = self._documents(donors, gifts, year)
        self._bench_render(docs, workers)
        if not opts["render_only"]:
            self._bench_issue(donors, gifts, year)

    def _documents(self, count: int, gifts: int, year: int) -> list[ReceiptDocument]:
        base = ReceiptDocument(
            language="ja",
            number="",
            issued_on=dt.date(year + 1, 1, 15),
            annual=True,
            year=year,
            certified=True,
            donor_name="",
            donor_address=[],
            total_yen=0,
            lines=[],
            org_name="特定非営利活動法人 ひだまり共生ネット",
            org_address=["〒169-0073", "東京都新宿区百人町1-2-3"],
            org_representative="理事長　共生 太郎",
            certification_label="認定特定非営利活動法人（認定NPO法人）",
            certification_authority="東京都",
            certification_number="東京都生文第1234号",
            certification_date=dt.date(year - 2, 4, 1),
            closing_note="ご支援に心より感謝申し上げます。",
        )
        docs = []
        for i in range(count):
            lines = [
                ReceiptLine(dt.date(year, 1 + (i + g) % 12, 1 + g), 1000 * (g + 1))
                for g in range(gifts)
            ]
            docs.append(
                dataclasses.replace(
                    base,
                    number=f"{year + 1}-{i + 1:06d}",
                    donor_name=f"{FAMILY[i % 10]} {GIVEN[(i // 10) % 10]}",
                    donor_address=[
                        f"〒{100 + i % 800:03d}-{i % 10000:04d}",
                        f"東京都新宿区西新宿{1 + i % 9}-{i % 30}-{i % 7 + 1}",
                    ],
                    total_yen=sum(line.amount_yen for line in lines),
                    lines=lines,
                )
            )
        return docs

    def _bench_render(self, docs: list[ReceiptDocument], workers: int) -> None:
        render_receipt_pdf(docs[0])  # load the font once before timing
        # CPU time per PDF in this process: a figure other load cannot skew.
        sample = docs[: min(len(docs), 200)]
        cpu = time.process_time()
        for doc in sample:
            render_receipt_pdf(doc)
        per_pdf = (time.process_time() - cpu) / len(sample)
        self.stdout.write(
            f"render CPU: {per_pdf * 1000:.1f} ms per PDF = "
            f"{1 / per_pdf:.1f} PDFs/s per core"
        )
        start = time.perf_counter()
        if workers > 1:
            context = multiprocessing.get_context("fork")
            with context.Pool(workers) as pool:
                sizes = pool.map(_render, docs, chunksize=50)
        else:
            sizes = [_render(doc) for doc in docs]
        elapsed = time.perf_counter() - start
        self.stdout.write(
            f"render: {len(docs)} PDFs in {elapsed:.1f} s with {workers} "
            f"process(es) = {len(docs) / elapsed:.1f} PDFs/s "
            f"(average {sum(sizes) // len(sizes):,} bytes)"
        )

    def _bench_issue(self, count: int, gifts: int, year: int) -> None:
        profile = organisation_profile()
        with (
            tempfile.TemporaryDirectory() as media,
            override_settings(MEDIA_ROOT=media, KYOSEI_PRIVATE_ROOT=media),
        ):
            try:
                with transaction.atomic():
                    if not profile.legal_name_ja:
                        profile.legal_name_ja = "特定非営利活動法人 ベンチマーク"
                        profile.save()
                    fund = Fund.objects.get_or_create(
                        code="bench-receipts",
                        defaults={"name": "bench", "kind": Fund.Kind.GENERAL},
                    )[0]
                    start = time.perf_counter()
                    self._seed(count, gifts, year, fund)
                    self.stdout.write(
                        f"seed: {count} donors, {count * gifts} gifts in "
                        f"{time.perf_counter() - start:.1f} s (not timed below)"
                    )
                    start = time.perf_counter()
                    state = annual_batch_run(year=year, user=None, send_email=False)
                    elapsed = time.perf_counter() - start
                    self.stdout.write(
                        f"issue: {state.issued} annual receipts in {elapsed:.1f} s "
                        f"= {state.issued / elapsed:.1f} receipts/s (one process, "
                        f"skipped {len(state.skipped)})"
                    )
                    raise _Rollback
            except _Rollback:
                pass

    def _seed(self, count: int, gifts: int, year: int, fund: Fund) -> None:
        for i in range(count):
            donor = donor_create(
                user=None,
                family_name=FAMILY[i % 10],
                given_name=GIVEN[(i // 10) % 10],
                postal_code=f"160-{i % 10000:04d}",
                prefecture="東京都",
                city="新宿区",
                address_line1=f"西新宿{1 + i % 9}-{i % 30}",
                email="" if i % 5 == 0 else f"bench{i}@example.invalid",
            )
            for g in range(gifts):
                gift_record(
                    donor=donor,
                    kind=Gift.Kind.DONATION,
                    amount=Money.yen(1000 * (g + 1)),
                    received_on=dt.date(year, 1 + (i + g) % 12, 1 + g),
                    method=Gift.Method.BANK_TRANSFER,
                    fund=fund,
                )
