"""A NUL character in a URL, query string or cookie is a 400, never a 500.

PostgreSQL refuses NUL in text, so a NUL that reached a query — the receipt
search read ``request.GET["q"]`` straight into ``icontains`` — was a server
error (``DataError: PostgreSQL text fields cannot contain NUL``). The
``RefuseNulMiddleware`` refuses such requests before any view runs; these tests
run on SQLite and on PostgreSQL.
"""

import pytest
from django.urls import get_resolver, reverse

from kyosei.roles import Role
from tests.factories.users import staff_user

pytestmark = pytest.mark.django_db


def _plain_urls(patterns, prefix=""):
    """Every URL of the configuration that takes no argument."""
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            yield from _plain_urls(pattern.url_patterns, prefix + str(pattern.pattern))
            continue
        url = prefix + str(pattern.pattern)
        if not any(c in url for c in "<(^$"):
            yield "/" + url


@pytest.fixture
def admin(client):
    client.force_login(staff_user(Role.ADMIN))
    client.raise_request_exception = False
    return client


def test_receipt_search_with_nul_is_a_bad_request(admin):
    url = reverse("receipts:index")
    assert admin.get(url, {"q": "2026\x00"}).status_code == 400
    assert admin.get(url, {"q": "2026"}).status_code == 200


def test_nul_in_any_query_string_is_refused_before_the_view(admin):
    urls = sorted(set(_plain_urls(get_resolver().url_patterns)))
    assert "/admin/receipts/" in urls and len(urls) > 50
    for url in urls:
        for query in ("q=a%00b", "p=1&status=%00", "%00=1"):
            response = admin.get(f"{url}?{query}")
            assert response.status_code == 400, (url, query, response.status_code)


@pytest.mark.parametrize(
    "path", ["/%00/", "/en/portal/%00", "/admin/receipts/%00/", "/campaigns/a%00b/"]
)
def test_nul_in_the_path_is_refused(client, path):
    client.raise_request_exception = False
    assert client.get(path).status_code == 400


def test_nul_in_a_cookie_is_refused(client):
    client.raise_request_exception = False
    client.cookies["sessionid"] = "abc\x00def"
    assert client.get("/admin/").status_code == 400


def test_ordinary_requests_pass(client):
    assert client.get("/", {"q": "山田"}).status_code in (200, 404)
