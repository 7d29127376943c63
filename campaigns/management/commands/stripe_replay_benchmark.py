"""Benchmark: replay signed Stripe events into the webhook and check the books.

Builds N events for fresh donation intents (one-time gifts in yen and US dollars,
and monthly instalments), adds duplicates (default 30 %), shuffles them, signs
each with ``STRIPE_WEBHOOK_SECRET`` and posts them to ``/stripe/webhook/`` from
several threads. A real Celery worker (started here unless ``--no-worker``)
processes them through the fake Stripe API served over HTTP at
``STRIPE_API_BASE``. Prints events/s accepted at the endpoint and processed end
to end, and verifies that the benchmark fund's ledger equals the expected total
exactly and that every unique payment became exactly one gift.

Run on a throwaway PostgreSQL database (it writes thousands of donors); see the
README for the command line.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import stripe
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.db.models import Count, Sum
from django.test import Client
from django.utils import timezone
from wagtail.models import Page

from campaigns import fake_stripe as fs
from campaigns.models import (
    CampaignIndexPage,
    CampaignPage,
    DonationIntent,
    StripeEvent,
)
from donors.models import Gift
from grants.models import Fund, LedgerEntry
from kyosei.money import Money


class Command(BaseCommand):
    help = "Replay signed Stripe events into the webhook and verify the ledger."

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=10_000)
        parser.add_argument("--duplicates", type=float, default=0.30)
        parser.add_argument(
            "--processes",
            type=int,
            default=4,
            help="Posting processes (like web workers; threads would share the GIL).",
        )
        parser.add_argument(
            "--worker-after-accept",
            action="store_true",
            help="Start the worker only after every event was accepted, so the "
            "endpoint figure is not shared with the worker's CPU use.",
        )
        parser.add_argument("--worker-concurrency", type=int, default=8)
        parser.add_argument("--no-worker", action="store_true")
        parser.add_argument("--timeout", type=int, default=1800)
        parser.add_argument("--seed", type=int, default=20261123)

    def handle(self, *args, **opts):
        import signal

        # Ending the benchmark (SIGTERM) still stops the worker it started.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
        self._check_environment(opts)
        rng = random.Random(opts["seed"])
        server = self._fake_stripe()
        worker = None
        if not (opts["no_worker"] or opts["worker_after_accept"]):
            worker = self._start_worker(opts)
        try:
            fund, payloads, expected_yen, unique = self._build(opts, rng)
            bodies = self._sign(payloads)
            accepted_s, codes = self._post(bodies, opts["processes"])
            worker_started = time.perf_counter()
            if opts["worker_after_accept"]:
                worker = self._start_worker(opts)
                worker_started = time.perf_counter()
            self.stdout.write(
                f"Accepted {len(bodies)} events in {accepted_s:.2f} s: "
                f"{len(bodies) / accepted_s:.0f} events/s at the endpoint "
                f"({codes})"
            )
            event_ids = sorted({p["id"] for p in payloads})
            processed_s = self._wait(event_ids, opts["timeout"])
            busy = time.perf_counter() - worker_started
            self.stdout.write(
                f"Processed {unique} unique events {processed_s:.2f} s after the "
                f"first post; the worker needed {busy:.2f} s after the last post: "
                f"{unique / busy:.1f} events/s processed"
            )
            thanked_s = self._wait_thanked(fund, opts["timeout"])
            self.stdout.write(
                f"Every gift's receipt or thank-you was sent {thanked_s:.2f} s "
                "after the first post"
            )
            self._verify(fund, expected_yen, unique, event_ids)
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=60)
            server.shutdown()

    # -- setup --------------------------------------------------------------------

    def _check_environment(self, opts) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("Run on PostgreSQL (DATABASE_URL=postgres://…).")
        if not opts["no_worker"] and not settings.CELERY_BROKER_URL:
            raise CommandError("Set CELERY_BROKER_URL (Redis) for a real worker.")
        if not (settings.STRIPE_SECRET_KEY and settings.STRIPE_WEBHOOK_SECRET):
            raise CommandError("Set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET.")
        base = settings.STRIPE_API_BASE or ""
        if urlsplit(base).hostname not in ("127.0.0.1", "localhost"):
            raise CommandError(
                "Set STRIPE_API_BASE=http://127.0.0.1:12111: the benchmark never "
                "calls the real Stripe."
            )

    def _fake_stripe(self):
        parts = urlsplit(settings.STRIPE_API_BASE)
        return fs.serve(parts.hostname or "127.0.0.1", parts.port or 12111)

    def _start_worker(self, opts):
        root = Path(settings.BASE_DIR)
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "--workdir",
                str(root / "site"),
                "-A",
                "kyosei.celery",
                "worker",
                "--concurrency",
                str(opts["worker_concurrency"]),
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "WARNING",
            ],
            cwd=root,
            env=os.environ.copy(),
            # The console email backend would print every thank-you email.
            stdout=subprocess.DEVNULL,
        )
        time.sleep(3)
        if worker.poll() is not None:
            raise CommandError("The Celery worker did not start.")
        return worker

    def _build(self, opts, rng):
        tag = uuid.uuid4().hex[:8]
        fund = Fund.objects.create(
            code=f"bench-{tag}", name=f"Benchmark {tag}", kind=Fund.Kind.RESTRICTED
        )
        root = Page.get_first_root_node()
        index = CampaignIndexPage.objects.first()
        if index is None:
            index = root.add_child(
                instance=CampaignIndexPage(title="Benchmark", slug=f"bench-{tag}")
            )
        campaign = index.add_child(
            instance=CampaignPage(
                title=f"Benchmark {tag}",
                slug=f"bench-{tag}",
                fund=fund,
                goal_yen=10**12,
                start_date=timezone.localdate(),
            )
        )
        total = opts["events"]
        unique = total - int(total * opts["duplicates"])
        monthly_subs = unique // 10  # 2 invoices each: 20 % of unique events
        one_time = unique - 2 * monthly_subs
        intents, payloads, expected = [], [], 0
        for n in range(one_time + monthly_subs):
            monthly = n >= one_time
            currency = "USD" if (not monthly and n % 7 == 0) else "JPY"
            amount = (
                rng.randint(5, 300) * 100
                if currency == "USD"
                else rng.randint(1, 100) * 500
            )
            intents.append(
                DonationIntent(
                    campaign=campaign,
                    amount=amount,
                    currency=currency,
                    frequency="monthly" if monthly else "once",
                    family_name="ベンチ",
                    given_name=str(n),
                    email=f"bench-{tag}-{n}@example.invalid",
                    checkout_session_id=fs.fake_id("cs", Money(amount, currency)),
                )
            )
        DonationIntent.objects.bulk_create(intents, batch_size=1000)
        for intent in intents:
            money = intent.money
            suffix = intent.uuid.hex[:16]
            mode = "subscription" if intent.frequency == "monthly" else "payment"
            session = fs.checkout_session_obj(
                session_id=intent.checkout_session_id,
                intent_uuid=str(intent.uuid),
                money=money,
                mode=mode,
                suffix=suffix,
            )
            if mode == "payment":
                payloads.append(fs.build_event("checkout.session.completed", session))
                expected += fs.demo_settle(money)[0]
                continue
            for number in (1, 2):
                invoice = fs.invoice_obj(
                    subscription_id=session["subscription"],
                    intent_uuid=str(intent.uuid),
                    money=money,
                    number=number,
                )
                payloads.append(fs.build_event("invoice.paid", invoice))
                expected += fs.demo_settle(money)[0]
        duplicates = [rng.choice(payloads) for _ in range(total - len(payloads))]
        everything = payloads + duplicates
        rng.shuffle(everything)
        self.stdout.write(
            f"Built {len(everything)} events: {len(payloads)} unique "
            f"({one_time} one-time, {monthly_subs} subscriptions × 2 invoices), "
            f"{len(duplicates)} duplicates; expected ledger ¥{expected:,}"
        )
        return fund, everything, expected, len(payloads)

    def _sign(self, payloads):
        secret = settings.STRIPE_WEBHOOK_SECRET
        out = []
        now = int(time.time())
        for payload in payloads:
            body = json.dumps(payload)
            header = stripe.WebhookSignature.generate_signature_header(
                body, secret, timestamp=now
            )
            out.append((body, header))
        return out

    # -- run ----------------------------------------------------------------------

    def _post(self, bodies, processes: int):
        """Post from several forked processes, like several web workers."""
        import multiprocessing

        chunks = [bodies[i::processes] for i in range(processes)]
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        connections.close_all()  # each child opens its own connection

        def run(chunk):
            client = Client(HTTP_HOST="127.0.0.1")
            local: dict[int, int] = {}
            for body, header in chunk:
                response = client.post(
                    "/stripe/webhook/",
                    data=body,
                    content_type="application/json",
                    HTTP_STRIPE_SIGNATURE=header,
                    secure=True,
                )
                local[response.status_code] = local.get(response.status_code, 0) + 1
            connections.close_all()
            results.put(local)

        self._started = time.perf_counter()
        children = [context.Process(target=run, args=(c,)) for c in chunks]
        for child in children:
            child.start()
        codes: dict[int, int] = {}
        for _ in children:
            for code, count in results.get().items():
                codes[code] = codes.get(code, 0) + count
        for child in children:
            child.join()
        return time.perf_counter() - self._started, codes

    def _wait(self, event_ids: list[str], timeout: int) -> float:
        """Until every one of this run's events is done or failed."""
        deadline = time.monotonic() + timeout
        pending = {StripeEvent.Status.RECEIVED, StripeEvent.Status.PROCESSING}
        chunks = [event_ids[i : i + 1000] for i in range(0, len(event_ids), 1000)]
        while time.monotonic() < deadline:
            if not any(
                StripeEvent.objects.filter(stripe_id__in=c, status__in=pending).exists()
                for c in chunks
            ):
                return time.perf_counter() - self._started
            time.sleep(1)
        raise CommandError("Timed out waiting for the worker.")

    def _wait_thanked(self, fund: Fund, timeout: int) -> float:
        """Until the worker has acknowledged every gift (its follow-up tasks), so
        stopping the worker leaves no task of this run in the broker's queue."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not Gift.objects.filter(
                fund=fund, acknowledged_at__isnull=True
            ).exists():
                return time.perf_counter() - self._started
            time.sleep(1)
        raise CommandError("Timed out waiting for the gifts' thank-you emails.")

    def _verify(
        self, fund: Fund, expected_yen: int, unique: int, event_ids: list[str]
    ) -> None:
        ledger = (
            LedgerEntry.objects.filter(fund=fund).aggregate(t=Sum("amount_yen"))["t"]
            or 0
        )
        gifts = Gift.objects.filter(fund=fund).count()
        statuses: dict[str, int] = {}
        for i in range(0, len(event_ids), 1000):
            for status, n in (
                StripeEvent.objects.filter(stripe_id__in=event_ids[i : i + 1000])
                .values_list("status")
                .annotate(n=Count("id"))
                .order_by()
            ):
                statuses[status] = statuses.get(status, 0) + n
        self.stdout.write(f"Events by status: {statuses}")
        thanked = Gift.objects.filter(fund=fund, acknowledged_at__isnull=False).count()
        self.stdout.write(f"Gifts: {gifts} (expected {unique}), thanked: {thanked}")
        self.stdout.write(f"Ledger: ¥{ledger:,} (expected ¥{expected_yen:,})")
        if ledger != expected_yen or gifts != unique or thanked != unique:
            raise CommandError(
                "MISMATCH: the ledger, the gifts or the thank-yous differ from "
                "what was expected."
            )
        self.stdout.write(self.style.SUCCESS("OK: ledger equals the expected total."))
