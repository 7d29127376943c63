import uuid

from django.db import migrations

from kyosei.roles import sync_role_groups


def create_homepage_and_locales(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Page = apps.get_model("wagtailcore.Page")
    Site = apps.get_model("wagtailcore.Site")
    Locale = apps.get_model("wagtailcore.Locale")
    HomePage = apps.get_model("kyosei.HomePage")

    ja, _ = Locale.objects.get_or_create(language_code="ja")
    for code in ("en", "vi"):
        Locale.objects.get_or_create(language_code=code)

    if HomePage.objects.exists():
        return
    # Replace Wagtail's "Welcome" page (a plain Page) with our HomePage.
    page_type = ContentType.objects.get(model="page", app_label="wagtailcore")
    Page.objects.filter(content_type=page_type, slug="home", depth=2).delete()
    home_type, _ = ContentType.objects.get_or_create(model="homepage", app_label="kyosei")
    root = Page.objects.get(depth=1)
    home = HomePage.objects.create(
        title="共生の家へようこそ",
        draft_title="共生の家へようこそ",
        slug="home",
        content_type=home_type,
        path=f"{root.path}0001",
        depth=2,
        numchild=0,
        url_path="/home/",
        locale=ja,
        translation_key=uuid.uuid4(),
        live=True,
    )
    root.numchild = Page.objects.filter(depth=2).count()
    root.save(update_fields=["numchild"])
    Site.objects.create(
        hostname="localhost", port=80, root_page=home, is_default_site=True,
        site_name="Kyosei",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("kyosei", "0001_initial"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailimages", "0027_image_description"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("wagtailadmin", "__latest__"),
        ("auth", "__latest__"),
        # Every app with permissions, so the Admin role gets all of them.
        ("wagtailembeds", "__latest__"),
        ("wagtailredirects", "__latest__"),
        ("wagtailsearch", "__latest__"),
        ("wagtailforms", "__latest__"),
        ("wagtailusers", "__latest__"),
        ("taggit", "__latest__"),
        ("account", "__latest__"),
        ("mfa", "__latest__"),
        ("sessions", "__latest__"),
        ("contenttypes", "__latest__"),
        ("simple_translation", "__latest__"),
    ]

    operations = [
        migrations.RunPython(create_homepage_and_locales, migrations.RunPython.noop),
        migrations.RunPython(sync_role_groups, migrations.RunPython.noop),
    ]
