"""Put back what the data migrations create, after a transactional test's flush.

A transactional test (``django_db(transaction=True)``, used for the PostgreSQL
concurrency tests) ends by flushing every table, which would take the migrations'
rows — the Wagtail root page and site, locales, the role groups, the general fund
— from the tests that run after it in the same process. ``tests/conftest.py``
calls this after such a test has been torn down. Much faster than
``serialized_rollback``, which reloads the whole database after each one.
"""

from importlib import import_module

from django.apps import apps


def restore_migration_data() -> None:
    from django.contrib.contenttypes.management import create_contenttypes
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import Collection, Locale, Page, Site

    # the flush gave every content type a new id: forget the cached ones
    ContentType.objects.clear_cache()
    for app_config in apps.get_app_configs():
        create_contenttypes(app_config, verbosity=0)

    from kyosei.models import HomePage
    from kyosei.roles import sync_role_groups

    for code in ("ja", "en", "vi"):
        Locale.objects.get_or_create(language_code=code)
    if not Collection.objects.exists():
        Collection.add_root(name="Root")
    if not Page.objects.filter(depth=1).exists():
        Page.add_root(instance=Page(title="Root", slug="root"))
    if not HomePage.objects.exists():
        root = Page.objects.get(depth=1)
        home = root.add_child(
            instance=HomePage(
                title="共生の家へようこそ",
                slug="home",
                locale=Locale.objects.get(language_code="ja"),
            )
        )
        Site.objects.update_or_create(
            is_default_site=True,
            defaults={
                "hostname": "localhost",
                "port": 80,
                "root_page": home,
                "site_name": "Kyosei",
            },
        )
    # after the page tree and the collection: roles' page and collection rights
    # hang on their roots
    sync_role_groups(apps)
    # the data migrations' own functions, run with the real models
    for module, function in (
        ("grants.migrations.0002_append_only_general_fund_roles", "general_fund"),
        ("donors.imports.migrations.0002_profiles_roles", "add_profiles"),
    ):
        getattr(import_module(module), function)(apps, None)
    # Wagtail's data migration 0048 made the moderation workflow of the groups
    # that may publish (the flush took it; the permission matrix opens its
    # pages). Its own function reads a page-permission field that no longer
    # exists, so the same rows are made here with today's models.
    from django.contrib.auth.models import Group
    from wagtail.models import GroupApprovalTask, Workflow, WorkflowPage, WorkflowTask

    if not Workflow.objects.exists():
        task = GroupApprovalTask.objects.create(name="Moderators approval")
        task.groups.set(
            Group.objects.filter(
                page_permissions__permission__codename="publish_page"
            ).distinct()
        )
        workflow = Workflow.objects.create(name="Moderators approval")
        WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
        WorkflowPage.objects.create(workflow=workflow, page=Page.objects.get(depth=1))
