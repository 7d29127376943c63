"""Acceptance (issue 11, item 2): a Board, Editor or Caseworker user opens every
page they can and finds no seeded donor's name, email or address in any of them.

On the seeded demo NPO (``seed_demo``, plus one of each object a URL can name:
``tests/kyosei/site_map.py``), each role's crawl starts from every URL of the URL
configuration (parameters filled with real ids, every language prefix) and then
follows every same-site link of every page it could open (the dashboard's menus
included), up to :data:`MAX_PAGES`. Every page that opens is also asked for its
CSV and XLSX export (``?export=csv`` / ``?export=xlsx``, as Wagtail's listings
and reports answer them). Each body — HTML, JSON, CSV, the cells of an XLSX — is
searched for every seeded donor's names, email and address.
"""

from __future__ import annotations

import html
import io
import json
import re
from collections import Counter, deque
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.test import Client

from kyosei.roles import Role
from tests.factories.users import mfa_login
from tests.kyosei.site_map import LANGUAGES, routes, site_files, site_fixture, url_for

ROLES = (Role.BOARD, Role.EDITOR, Role.CASEWORKER)
MAX_PAGES = 3000
QUERIES_PER_PATH = 2  # sort/filter/page links: a few variants of a listing suffice
SKIP_PREFIXES = ("/static/", "/media/")
# Wagtail's deliberate server error, for testing error reporting.
ERROR_TEST_PAGE = "/admin/failwhale/"
LINK = re.compile(r"""(?:href|action)=["'](/[^"'#]*)|"url":\s*"(/[^"#]*)\"""")


@pytest.fixture
def _private_files(site, settings):
    """The seeded site's files, not the test's own empty folders (conftest)."""
    site_files(site, settings)


@pytest.fixture(scope="module")
def site(tmp_path_factory, django_db_blocker):
    yield from site_fixture(tmp_path_factory, django_db_blocker)


def needles(donors) -> dict[str, int]:
    """What must not appear: each donor's names, email and address line."""
    found: dict[str, int] = {}
    for donor in donors:
        names = [
            " ".join(p for p in (donor.family_name, donor.given_name) if p),
            donor.family_name + donor.given_name,
            donor.kana_name,
            donor.latin_name,
            donor.organisation_name,
            donor.email,
            donor.address_line1,
            donor.address_line2,
        ]
        for value in names:
            # Two-character fragments (a family name alone) are not a person.
            if value and len(value.strip()) >= 4:
                found[value.strip()] = donor.pk
    return found


def body_text(response) -> str:
    content_type = response.get("Content-Type", "")
    data = (
        b"".join(response.streaming_content) if response.streaming else response.content
    )
    if "spreadsheetml" in content_type:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(
            str(cell)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for cell in row
            if cell is not None
        )
    text = data.decode("utf-8", errors="replace")
    if "json" in content_type:
        try:
            text = json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            pass
    return text


def leaks(text: str, needles: dict[str, int]) -> list[str]:
    unescaped = html.unescape(text)
    return [n for n in needles if n in unescaped]


def links(text: str) -> set[str]:
    found = set()
    for match in LINK.finditer(text):
        url = html.unescape(match.group(1) or match.group(2)).replace("\\/", "/")
        if url.startswith("//"):
            continue
        found.add(url)
    return found


def with_export(url: str, fmt: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "export"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("export", fmt)])))


def start_urls(site) -> list[str]:
    urls = []
    for route in routes():
        for language in LANGUAGES if route.i18n else ("ja",):
            urls.append(url_for(route, site, language))
    return urls


@pytest.mark.parametrize("role", ROLES)
def test_role_sees_no_donor_on_any_page(site, db, role):
    user = site.users[role.value]
    client = Client(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False)
    mfa_login(client, user)
    search = needles(site.donors)
    assert len(search) > 500  # ~300 donors' names, emails and addresses

    queue = deque(start_urls(site))
    seen: set[str] = set()
    per_path: Counter[str] = Counter()
    exported: set[str] = set()
    opened, problems = [], []
    while queue:
        assert len(seen) < MAX_PAGES, "the crawl does not end: a link loop?"
        url = queue.popleft()
        parts = urlsplit(url)
        path = parts.path
        if url in seen or path.startswith(SKIP_PREFIXES) or path == ERROR_TEST_PAGE:
            continue
        export = dict(parse_qsl(parts.query)).get("export")
        if not export and parts.query and per_path[path] >= QUERIES_PER_PATH:
            continue
        seen.add(url)
        per_path[path] += 1
        response = client.get(url)
        cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
        if cookie is None or not cookie.value:
            mfa_login(client, user)  # Wagtail's logout (even refused) drops the cookie
        if response.status_code >= 500:
            problems.append(f"{url}: {response.status_code}")
            continue
        if response.status_code != 200:
            continue
        content_type = response.get("Content-Type", "")
        text = body_text(response)
        opened.append(url)
        for leak in leaks(text, search):
            problems.append(f"{url}: {leak!r} (donor #{search[leak]})")
        if export == "csv" and "text/csv" in content_type:
            # The view exports: its XLSX too.
            queue.appendleft(with_export(url, "xlsx"))
        elif not export and "html" in content_type:
            if path not in exported:
                # Any listing or report may answer ?export=; ask once per view.
                exported.add(path)
                queue.appendleft(with_export(url, "csv"))
            queue.extend(links(text) - seen)

    assert not problems, "\n".join(problems)
    assert len(opened) > 50  # the crawl did reach the role's pages
