import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url,lang,title",
    [
        ("/", "ja", "ひだまり共生ネットへようこそ"),
        ("/en/", "en", "Welcome to Hidamari Kyosei Network"),
        ("/vi/", "vi", "Chào mừng đến với Hidamari Kyosei Network"),
    ],
)
def test_home_page_in_each_language(client_ja, demo_core, url, lang, title):
    # a Japanese browser; /en/ and /vi/ are chosen by the URL alone
    response = client_ja.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{lang}">' in html
    assert f"<h1>{title}</h1>" in html


def test_home_page_renders_without_demo_data(client_ja):
    # the migration alone gives a real Japanese home page
    response = client_ja.get("/")
    assert response.status_code == 200
    assert '<html lang="ja">' in response.content.decode()


def test_home_shows_transfer_accounts(client_ja, demo_core):
    html = client_ja.get("/").content.decode()
    assert "デモ銀行" in html and "ゆうちょ銀行" in html


def test_page_has_skip_link_and_language_nav(client, demo_core):
    html = client.get("/en/").content.decode()
    assert 'href="#main"' in html
    assert 'hreflang="vi"' in html


def test_japanese_is_the_default_without_a_language_preference(demo_core):
    from django.test import Client

    response = Client().get("/")
    assert response.status_code == 200
    assert '<html lang="ja">' in response.content.decode()
