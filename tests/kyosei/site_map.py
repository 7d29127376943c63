"""The whole site as its URL configuration describes it, for tests that visit every
page as every kind of user.

- :func:`routes` walks ``ROOT_URLCONF`` recursively — Wagtail's admin with its
  viewsets and hooks' URLs, allauth, the language-prefixed (i18n) patterns — and
  gives each pattern a stable key (its URL name; the path for an unnamed one).
- :func:`build_site` seeds the demo NPO (every app's ``demo.seed()``, as
  ``seed_demo`` does, or the demo with a few donors in place of ~300) and adds
  one of each object a URL can point at that the demo lacks (a portal donor with
  a receipt, a transfer and a spreadsheet import, a deletion request, Stripe
  records, an image, a document, a redirect).
- :func:`url_for` fills a pattern's parameters with those objects' ids.
- :func:`site_fixture` holds that data for a whole test module: it is written once
  inside a transaction that is rolled back after the module's last test (each
  test's own changes are rolled back to a savepoint by pytest-django as usual).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import StringIO
from typing import Any

from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import LocalePrefixPattern, RegexPattern, RoutePattern
from django.utils import translation
from wagtail.contrib.redirects.models import Redirect
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.images.tests.utils import get_test_image_file
from wagtail.models import Collection, Locale, Workflow, WorkflowTask
from wagtail.models import Site as WagtailSite

from campaigns import demo as campaigns_demo
from campaigns.models import CampaignPage, ReconciliationRun, StripeEvent
from donors.imports.models import SpreadsheetImport, TransferProfile
from donors.imports.services import import_batch_create, import_batch_stage
from donors.models import Donor, Gift, Household, RecurringGift
from donors.portal.services import deletion_request_create
from donors.receipts.services import receipt_issue_single
from grants import demo as grants_demo
from grants.models import Fund
from kyosei import demo as kyosei_demo
from kyosei.models import HomePage
from kyosei.roles import Role
from tests.factories.campaigns import donation_intent
from tests.factories.donors import DonorFactory, HouseholdFactory, make_gift
from tests.factories.transfers import fixture
from tests.factories.users import UserFactory, staff_user

LANGUAGES = ("ja", "en", "vi")
MISSING = 999_999  # an id no row has: the page answers 404 (or denies first)


@dataclass(frozen=True)
class Route:
    """One URL pattern: ``key`` is unique in the URL configuration."""

    key: str
    name: str | None
    path: str  # the pattern as written, language prefix left out
    params: tuple[str, ...]
    positional: bool  # regex groups without names: filled as args
    i18n: bool

    @property
    def namespace(self) -> str:
        return self.name.rpartition(":")[0] if self.name else ""


def _params(pattern) -> tuple[tuple[str, ...], bool]:
    if isinstance(pattern, RoutePattern):
        return tuple(pattern.converters), False
    if isinstance(pattern, RegexPattern):
        regex = pattern.regex
        if regex.groupindex:
            return tuple(sorted(regex.groupindex, key=regex.groupindex.get)), False
        return tuple(f"_{i}" for i in range(regex.groups)), True
    return (), False


def _walk(patterns, prefix, namespace, i18n, params, positional) -> Iterator[tuple]:
    for entry in patterns:
        names, is_positional = _params(entry.pattern)
        here_i18n = i18n or isinstance(entry.pattern, LocalePrefixPattern)
        text = "" if isinstance(entry.pattern, LocalePrefixPattern) else entry.pattern
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            inner = ":".join(p for p in (namespace, ns) if p) if ns else namespace
            yield from _walk(
                entry.url_patterns,
                prefix + str(text),
                inner,
                here_i18n,
                params + names,
                positional or is_positional,
            )
        elif isinstance(entry, URLPattern):
            name = entry.name and (
                f"{namespace}:{entry.name}" if namespace else entry.name
            )
            yield (
                name,
                prefix + str(text),
                params + names,
                positional or is_positional,
                here_i18n,
            )


def routes() -> list[Route]:
    """Every pattern in the URL configuration, in resolution order."""
    raw = list(_walk(get_resolver().url_patterns, "", "", False, (), False))
    seen = Counter(name for name, *_ in raw if name)
    result = []
    for name, path, params, positional, i18n in raw:
        if name is None:
            key = "/" + path
        elif seen[name] > 1:
            key = f"{name}({','.join(params)})"
        else:
            key = name
        result.append(Route(key, name, path, params, positional, i18n))
    keys = Counter(r.key for r in result)
    assert all(n == 1 for n in keys.values()), [k for k, n in keys.items() if n > 1]
    return result


# -- the objects URLs point at ------------------------------------------------------


@dataclass
class SeededSite:
    """Ids of seeded objects, by what a URL parameter names."""

    ids: dict[str, Any] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)  # principal -> user
    donors: list[Any] = field(default_factory=list)  # every seeded donor
    files: dict[str, Any] = field(default_factory=dict)  # setting -> folder

    def __getitem__(self, key: str) -> Any:
        return self.ids[key]


def _seed_a_few_donors() -> None:
    """Three donors (two in a household) with gifts: what the URLs need, for
    tests that need no ~2,000 demo gifts."""
    household = HouseholdFactory(name="見本家")
    for n, (family, given) in enumerate(
        (("見本", "一郎"), ("見本", "二葉"), ("例示", "三郎"))
    ):
        donor = DonorFactory(
            family_name=family,
            given_name=given,
            email=f"sample{n}@example.jp",
            postal_code="160-0022",
            prefecture="東京都",
            city="新宿区",
            address_line1=f"新宿{n + 1}-2-3",
            household=household if n < 2 else None,
        )
        for month in (4, 5):
            make_gift(donor=donor, amount=3_000, received_on=dt.date(2025, month, 10))


def build_site(*, full_demo: bool = True) -> SeededSite:
    """Seed the demo NPO and one of each object a URL can name.

    ``full_demo`` runs ``seed_demo`` (~300 donors, ~2,000 gifts: a test that
    looks for personal data wants them all); without it, the organisation, its
    users, funds and campaign pages are seeded as the demo does, and a few donors
    with gifts stand in for the rest (the permission matrix needs one of each).
    """
    if full_demo:
        call_command("seed_demo", stdout=StringIO())
    else:
        kyosei_demo.seed()
        grants_demo.seed()
        campaigns_demo.seed()
        _seed_a_few_donors()
    site = SeededSite()
    site.donors = list(Donor.objects.all())

    # A donor with a portal account, a monthly gift, gifts and a receipt.
    gift = (
        Gift.objects.filter(
            kind=Gift.Kind.DONATION,
            currency="JPY",
            donor__email__contains="@",
            donor__country="JP",
        )
        .exclude(donor__postal_code="")
        .order_by("-received_on", "pk")
        .first()
    )
    donor = gift.donor
    portal_user = UserFactory(username="portal-donor", email=donor.email)
    donor.user = portal_user
    donor.save(update_fields=["user"])
    recurring = RecurringGift.objects.create(
        donor=donor,
        interval=RecurringGift.Interval.MONTH,
        amount=3_000,
        fund=gift.fund,
        started_on=dt.date(2025, 1, 1),
    )
    receipt = receipt_issue_single(gift=gift, user=None, send_email=False)
    deletion = deletion_request_create(donor=donor, user=portal_user)
    other = Donor.objects.exclude(pk=donor.pk).order_by("pk").first()

    site.users = {"anonymous": None, "donor": portal_user}
    for role in Role:
        site.users[role.value] = staff_user(role.value)

    # A transfer import in preview, and a donor spreadsheet waiting for columns.
    with open(fixture("zengin_01.txt"), "rb") as handle:
        batch = import_batch_create(
            upload=SimpleUploadedFile("zengin_01.txt", handle.read()),
            format="zengin",
            profile=None,
            encoding="auto",
            fund=None,
            user=site.users[Role.FINANCE.value],
        )
    import_batch_stage(batch_id=batch.pk)
    sheet = SpreadsheetImport.objects.create(
        kind=SpreadsheetImport.Kind.DONORS,
        created_by=site.users[Role.FUNDRAISER.value],
        file_name="donors.csv",
        file_sha256="0" * 64,
        upload=ContentFile(
            f"姓,名,メール\n{donor.family_name},{donor.given_name},{donor.email}\n".encode(),
            name="donors.csv",
        ),
        file_format="csv",
        encoding="utf-8",
        headers=["姓", "名", "メール"],
    )

    campaign = CampaignPage.objects.live().order_by("pk").first()
    intent = donation_intent(
        campaign, family_name=donor.family_name, given_name=donor.given_name
    )
    event = StripeEvent.objects.create(
        stripe_id="evt_site_map", type="charge.refunded", payload={"id": "evt_site_map"}
    )
    run = ReconciliationRun.objects.create(since=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))

    image = get_image_model().objects.create(
        title="site map image", file=get_test_image_file()
    )
    document = get_document_model().objects.create(
        title="site map document", file=ContentFile(b"hello", name="hello.txt")
    )
    redirect = Redirect.objects.create(old_path="/old-page", redirect_link="/")
    workflow = Workflow.objects.order_by("pk").first()
    task = WorkflowTask.objects.filter(workflow=workflow).first()
    home = HomePage.objects.filter(locale__language_code="ja").first()

    site.ids = {
        "donor": donor.pk,
        "other_donor": other.pk,
        "household": Household.objects.order_by("pk").first().pk,
        "gift": gift.pk,
        "recurring": recurring.pk,
        "fund": Fund.objects.order_by("pk").first().pk,
        "receipt": receipt.pk,
        "deletion_request": deletion.pk,
        "batch": batch.pk,
        "spreadsheet": sheet.pk,
        "profile": TransferProfile.objects.order_by("pk").first().pk,
        "intent_uuid": intent.uuid,
        "stripe_event": event.pk,
        "reconciliation_run": run.pk,
        "page": campaign.pk,
        "page_path": campaign.get_url_parts()[2].strip("/") + "/",
        "home": home.pk,
        "campaign_index": campaign.get_parent().pk,
        "revision": campaign.latest_revision.pk,
        "image": image.pk,
        "document": document.pk,
        "document_file": document.filename,
        "redirect": redirect.pk,
        "workflow": workflow.pk,
        "task": task.task_id if task else MISSING,
        "collection": Collection.get_first_root_node().pk,
        "site": WagtailSite.objects.get(is_default_site=True).pk,
        "locale": Locale.objects.get(language_code="en").pk,
        "group": Group.objects.get(name=Role.FUNDRAISER.value).pk,
        "user": site.users[Role.FUNDRAISER.value].pk,
    }
    return site


def site_files(site: SeededSite, settings) -> None:
    """Point a test's media and private folders at the seeded site's (its
    images and receipt PDFs), instead of the test's own empty ones."""
    for name, folder in site.files.items():
        setattr(settings, name, folder)


def site_fixture(tmp_path_factory, django_db_blocker, *, full_demo: bool = True):
    """Body of a module-scoped fixture: build the site once, roll it back after."""
    files = {
        "MEDIA_ROOT": tmp_path_factory.mktemp("site-media"),
        "KYOSEI_PRIVATE_ROOT": tmp_path_factory.mktemp("site-private"),
    }
    with override_settings(**files), django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            with translation.override("en"):
                site = build_site(full_demo=full_demo)
            site.files = files
            yield site
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


# -- filling URL parameters ----------------------------------------------------------

# Which object a ``pk`` names, by the URL's namespace (or full name).
PK_OBJECT = {
    "donors": "donor",
    "donor_chooser": "donor",
    "households": "household",
    "gifts": "gift",
    "funds": "fund",
    "receipts": "receipt",
    "donor_imports": "batch",
    "donor_portal_admin": "deletion_request",
    "transfer_profiles": "profile",
    "stripe_events": "stripe_event",
    "reconciliation": "reconciliation_run",
    "campaigns:monthly_manage": "recurring",
    "donor_portal:gift": "gift",
    "donor_portal:recurring": "recurring",
    "donor_portal:receipt_pdf": "receipt",
    "donor_portal:receipt_reissue": "receipt",
    "wagtailsites": "site",
    "wagtailsettings": "site",
    "wagtailusers_users": "user",
    "wagtailusers_groups": "group",
    "wagtaillocales": "locale",
    "wagtailadmin_collections": "collection",
    "wagtailadmin_workflows": "workflow",
    "wagtailadmin_workflows:edit_task": "task",
    "wagtailadmin_workflows:disable_task": "task",
    "wagtailadmin_workflows:enable_task": "task",
    "wagtailadmin_api:pages": "page",
    "wagtailadmin_api:images": "image",
    "wagtailadmin_api:documents": "document",
    "wagtaildocs_chooser": "document",
    "wagtailimages_chooser": "image",
}

# By parameter name, whatever the URL.
PARAM_OBJECT = {
    "page_id": "page",
    "page_pk": "page",
    "parent_page_id": "home",
    "page_to_move_id": "page",
    "destination_id": "home",
    "revision_id": "revision",
    "image_id": "image",
    "document_id": "document",
    "doc_id": "document",
    "redirect_id": "redirect",
    "collection_id": "collection",
    "workflow_pk": "workflow",
    "task_id": "task",
    "survivor": "donor",
    "merged": "other_donor",
    "first": "donor",
    "second": "other_donor",
    "uuid": "intent_uuid",
}

# By "url name.param", where one URL needs another object than the name says.
PARAM_OBJECT_BY_URL = {
    # Campaign pages are created under the campaign index, not the home page.
    "wagtailadmin_pages:add.parent_page_id": "campaign_index",
    "wagtailadmin_pages:preview_on_add.parent_page_id": "campaign_index",
}

# A query string a URL needs to do its work rather than answer "bad request".
QUERY = {
    "donors:postal_lookup": "code=1600022",
    "receipts:batch_progress": "year=2025",
}

# Literal values by parameter name (or "url name.param" where it differs).
PARAM_VALUE = {
    "content_type_app_name": "campaigns",
    "content_type_model_name": "campaignpage",
    "wagtail_bulk_action.app_label": "wagtailcore",
    "wagtail_bulk_action.model_name": "page",
    "wagtail_bulk_action.action": "delete",
    "wagtailadmin_workflows:add_task.app_label": "wagtailcore",
    "wagtailadmin_workflows:add_task.model_name": "groupapprovaltask",
    "wagtailadmin_pages:choose_parent.app_label": "campaigns",
    "wagtailadmin_pages:choose_parent.model_name": "campaignpage",
    "simple_translation:submit_snippet_translation.app_label": "wagtailcore",
    "simple_translation:submit_snippet_translation.model_name": "site",
    "wagtailadmin_editing_sessions:ping.app_label": "donors",
    "wagtailadmin_editing_sessions:ping.model_name": "donor",
    "app_name": "kyosei",
    "model_name": "organisationprofile",
    "wagtailadmin_tag_model_autocomplete.app_name": "donors",
    "wagtailadmin_tag_model_autocomplete.model_name": "donor",
    "wagtailadmin_pages:workflow_action.action_name": "approve",
    "wagtailadmin_pages:collect_workflow_action_data.action_name": "approve",
    "wagtailadmin_api:pages:action.action_name": "copy",
    "filter_spec": "original",
    "key": "no-such-key",
    "uidb36": "1",
    "uidb64": "MQ",
    "token": "no-such-token",
    "revision_id_a": "earliest",
    "revision_id_b": "latest",
    "object_id": "1",
}


def _value(route: Route, param: str, site: SeededSite) -> Any:
    name = route.name or ""
    if f"{name}.{param}" in PARAM_OBJECT_BY_URL:
        return site[PARAM_OBJECT_BY_URL[f"{name}.{param}"]]
    if f"{name}.{param}" in PARAM_VALUE:
        return PARAM_VALUE[f"{name}.{param}"]
    if param == "pk":
        key = PK_OBJECT.get(name)
        if key is None and route.namespace.startswith("donor_imports"):
            key = "spreadsheet" if ":spreadsheet" in name else "batch"
        key = key or PK_OBJECT.get(route.namespace)
        if key is None and name == "wagtailadmin_pages:revisions_compare":
            key = "page"
        return site[key] if key else MISSING
    if param in PARAM_OBJECT:
        return site[PARAM_OBJECT[param]]
    if param in PARAM_VALUE:
        return PARAM_VALUE[param]
    return MISSING  # restriction, upload, task/workflow state, session ids: none exist


def url_for(route: Route, site: SeededSite, language: str = "ja") -> str:
    """The route as a concrete URL (with ``language``'s prefix if it has one)."""
    with translation.override(language):
        if route.name is None:
            path = re.sub(r"\^\.\*/\$$", "no-such-admin-page/", route.path)
            prefix = "" if not route.i18n or language == "ja" else f"{language}/"
            return "/" + prefix + path
        if route.name == "wagtaildocs_serve":
            return reverse(route.name, args=[site["document"], site["document_file"]])
        if route.name == "wagtail_serve":
            return reverse(route.name, args=[site["page_path"]])
        values = [_value(route, p, site) for p in route.params]
        if route.positional:
            url = reverse(route.name, args=values)
        else:
            url = reverse(
                route.name, kwargs=dict(zip(route.params, values, strict=True))
            )
        query = QUERY.get(route.name)
        return f"{url}?{query}" if query else url
