"""Receipt numbers under concurrency (PostgreSQL): parallel issuers, no gaps or
duplicates — the sequence row is locked in each receipt's transaction."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import translation

from donors.receipts.models import Receipt
from donors.receipts.services import receipt_issue_annual, receipt_issue_single
from tests.donors.receipts.conftest import jp_donor
from tests.factories.donors import make_gift

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

THREADS = 6
PER_THREAD = 4


def _in_threads(work):
    barrier = threading.Barrier(THREADS)
    errors = []

    def run(index):
        try:
            barrier.wait()
            work(index)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_parallel_issuers_get_gapless_unique_numbers(profile):
    gifts = [
        [
            make_gift(donor=jp_donor(), amount=1000, received_on=dt.date(2026, 6, 1))
            for _ in range(PER_THREAD)
        ]
        for _ in range(THREADS)
    ]

    def work(index):
        for gift in gifts[index]:
            receipt_issue_single(gift=gift, user=None, send_email=False)

    assert _in_threads(work) == []
    numbers = sorted(Receipt.objects.values_list("number", flat=True))
    year = Receipt.objects.first().issued_at.year
    assert numbers == [f"{year}-{n:06d}" for n in range(1, THREADS * PER_THREAD + 1)]


def test_parallel_annual_runs_for_one_donor_issue_once(profile):
    donor = jp_donor()
    for month in (3, 6, 9):
        make_gift(donor=donor, amount=2000, received_on=dt.date(2026, month, 1))

    def work(index):
        # a new thread starts in the default language; the check reads English
        with translation.override("en"):
            try:
                receipt_issue_annual(
                    donor=donor, year=2026, user=None, send_email=False
                )
            except Exception as exc:  # noqa: BLE001
                if "no gifts in 2026" not in str(exc):
                    raise

    assert _in_threads(work) == []
    [receipt] = Receipt.objects.all()
    assert receipt.total_yen == 6000
