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
def test_home_page_in_each_language(client, demo_core, url, lang, title):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{lang}">' in html
    assert f"<h1>{title}</h1>" in html


def test_home_page_renders_without_demo_data(client):
    # the migration alone gives a real Japanese home page
    response = client.get("/")
    assert response.status_code == 200
    assert '<html lang="ja">' in response.content.decode()


def test_home_shows_transfer_accounts(client, demo_core):
    html = client.get("/").content.decode()
    assert "デモ銀行" in html and "ゆうちょ銀行" in html


def test_page_has_skip_link_and_language_nav(client, demo_core):
    html = client.get("/en/").content.decode()
    assert 'href="#main"' in html
    assert 'hreflang="vi"' in html
