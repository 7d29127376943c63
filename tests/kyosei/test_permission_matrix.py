"""Acceptance (issue 11): the permission matrix, generated from the URL
configuration.

Every URL pattern (``tests/kyosei/site_map.py`` walks ``ROOT_URLCONF`` — Wagtail's
admin and its hooks' URLs, allauth, the language-prefixed patterns) is requested
with GET by every kind of user, its parameters filled with ids of the seeded demo
NPO, and the outcome compared with :data:`MATRIX`. A URL with no row fails
:func:`test_every_url_has_a_row` (and a row for a URL that is gone fails too), so a
new view cannot ship without its line in the table. Language-prefixed patterns are
requested under ``/``, ``/en/`` and ``/vi/`` and must answer the same.

Columns: anonymous, a donor signed in to the portal, then one user per role (staff
sessions passed MFA: ``tests.factories.users.mfa_login``).

Outcomes:

``ok``     200
``login``  redirect to sign-in (allauth; Wagtail's admin sends there too)
``deny``   Wagtail's refusal: redirect to the dashboard with "no permission"
``go``     another redirect (a form's next step, "already signed in", …)
``400`` ``403`` ``404`` ``405`` ``500``  that status (``405``: POST only;
           ``404`` for an id no row has, where the view checks access first)
``open``   wildcard rows only: reached the view (``ok``, ``go``, 400, 404 or 405)

Rows name a URL (``namespace:name``; a path for an unnamed pattern; the name with
its parameters where a name is used twice). Every Kyosei URL has its own row; a
row ending in ``*`` covers the rest of a Wagtail built-in namespace (allowed only
for ``wagtail…`` names, see :data:`WILDCARD_PREFIXES`). A row starting ``POST``
is requested with an empty POST instead of GET: Kyosei's POST-only actions, so
that the table shows who may *do* them (a GET would be a 405 for everyone).
The requests of one column run in the table's order in one transaction, rolled
back after it; an allowed empty POST answers with a form error or a message.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib import messages
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.factories.users import mfa_login
from tests.kyosei.site_map import (
    LANGUAGES,
    Route,
    routes,
    site_files,
    site_fixture,
    url_for,
)

PRINCIPALS = (
    "anonymous",
    "donor",
    "Admin",
    "Fundraiser",
    "Caseworker",
    "Finance",
    "Board",
    "Editor",
)
OUTCOMES = {"ok", "login", "deny", "go", "400", "403", "404", "405", "500", "open"}
OPEN = {"ok", "go", "400", "404", "405"}
WILDCARD_PREFIXES = ("wagtail",)

# fmt: off
MATRIX = """
# url                                                     anon   donor  Admin  Fundr  Casew  Finan  Board  Editr
# -- Kyosei ---------------------------------------------------------------------------------------
kyosei_admin_login_redirect                              login  login  login  login  login  login  login  login  # Wagtail's login → allauth
kyosei_admin_password_reset_redirect                     go     go     go     go     go     go     go     go  # Wagtail's reset → allauth's
kyosei_frontend_login_redirect                           login  login  login  login  login  login  login  login  # /_util/login/ → allauth
kyosei_site_history                                      login  login  ok     ok     deny   ok     deny   deny  # names donors: only roles that see donors
kyosei_site_history_results                              login  login  ok     ok     deny   ok     deny   deny
donors_duplicates:list                                   login  login  ok     ok     deny   deny   deny   deny
donors_duplicates:merge                                  login  login  ok     ok     deny   deny   deny   deny
POST donors_duplicates:dismiss                           login  login  go     go     deny   deny   deny   deny
donors_duplicates:history                                login  login  ok     ok     deny   deny   deny   deny
donor_imports:index                                      login  login  ok     ok     deny   ok     deny   deny
donor_imports:upload                                     login  login  ok     ok     deny   ok     deny   deny
donor_imports:detail                                     login  login  ok     ok     deny   ok     deny   deny
donor_imports:progress                                   login  login  ok     ok     deny   ok     deny   deny
POST donor_imports:apply                                 login  login  go     deny   deny   go     deny   deny  # posts money: Finance, not the uploader
POST donor_imports:undo                                  login  login  go     deny   deny   go     deny   deny
POST donor_imports:retry                                 login  login  go     go     deny   go     deny   deny  # a way out of a failed or stalled import
POST donor_imports:abandon                               login  login  go     go     deny   go     deny   deny
donor_imports:spreadsheet_index                          login  login  ok     ok     deny   ok     deny   deny
donor_imports:spreadsheet_upload                         login  login  ok     ok     deny   ok     deny   deny
donor_imports:spreadsheet_detail                         login  login  ok     ok     deny   ok     deny   deny
donor_imports:spreadsheet_map                            login  login  ok     ok     deny   ok     deny   deny
donor_imports:spreadsheet_progress                       login  login  ok     ok     deny   ok     deny   deny
POST donor_imports:spreadsheet_confirm                   login  login  go     deny   deny   go     deny   deny  # posts money: Finance
POST donor_imports:spreadsheet_retry                     login  login  go     go     deny   go     deny   deny
POST donor_imports:spreadsheet_abandon                   login  login  go     go     deny   go     deny   deny
donor_portal_admin:register                              login  login  ok     deny   deny   ok     deny   deny
donor_portal_admin:deletion_requests                     login  login  ok     ok     deny   deny   deny   deny
donor_portal_admin:deletion_request                      login  login  ok     ok     deny   deny   deny   deny
receipts:index                                           login  login  ok     ok     deny   ok     deny   deny
POST receipts:issue                                      login  login  go     go     deny   go     deny   deny
receipts:detail                                          login  login  ok     ok     deny   ok     deny   deny
receipts:pdf                                             login  login  ok     ok     deny   ok     deny   deny
POST receipts:reissue                                    login  login  go     go     deny   go     deny   deny
POST receipts:void                                       login  login  go     deny   deny   go     deny   deny
receipts:emails                                          login  login  ok     ok     deny   ok     deny   deny
receipts:batch                                           login  login  ok     ok     deny   ok     deny   deny
receipts:batch_progress                                  login  login  ok     ok     deny   ok     deny   deny
funds:index                                              login  login  ok     ok     deny   ok     ok     deny
funds:index_results                                      login  login  ok     ok     deny   ok     ok     deny
funds:add                                                login  login  ok     deny   deny   ok     deny   deny
funds:edit                                               login  login  ok     deny   deny   ok     deny   deny
funds:detail                                             login  login  ok     ok     deny   ok     ok     deny
funds:history                                            login  login  ok     deny   deny   ok     deny   deny
funds:history_results                                    login  login  ok     deny   deny   ok     deny   deny
donors:index                                             login  login  ok     ok     deny   ok     deny   deny
donors:index_results                                     login  login  ok     ok     deny   ok     deny   deny
donors:add                                               login  login  ok     ok     deny   deny   deny   deny
donors:edit                                              login  login  ok     ok     deny   ok     deny   deny
donors:detail                                            login  login  ok     ok     deny   ok     deny   deny
donors:postal_lookup                                     login  login  ok     ok     deny   ok     deny   deny
donors:history                                           login  login  ok     ok     deny   ok     deny   deny
donors:history_results                                   login  login  ok     ok     deny   ok     deny   deny
households:index                                         login  login  ok     ok     deny   ok     deny   deny
households:index_results                                 login  login  ok     ok     deny   ok     deny   deny
households:add                                           login  login  ok     ok     deny   deny   deny   deny
households:edit                                          login  login  ok     ok     deny   deny   deny   deny
households:delete                                        login  login  ok     deny   deny   deny   deny   deny
households:history                                       login  login  ok     ok     deny   deny   deny   deny
households:history_results                               login  login  ok     ok     deny   deny   deny   deny
households:usage                                         login  login  ok     ok     deny   deny   deny   deny
gifts:index                                              login  login  ok     ok     deny   ok     deny   deny
gifts:index_results                                      login  login  ok     ok     deny   ok     deny   deny
gifts:add                                                login  login  ok     ok     deny   ok     deny   deny
gifts:detail                                             login  login  ok     ok     deny   ok     deny   deny
POST gifts:refund                                        login  login  ok     deny   deny   ok     deny   deny
giving_totals:index                                      login  login  ok     ok     deny   ok     ok     deny  # aggregates only: the Board's view
donor_chooser:choose                                     login  login  ok     ok     deny   ok     deny   deny
donor_chooser:choose_results                             login  login  ok     ok     deny   ok     deny   deny
donor_chooser:chosen                                     login  login  ok     ok     deny   ok     deny   deny
transfer_profiles:index                                  login  login  ok     ok     deny   ok     deny   deny
transfer_profiles:index_results                          login  login  ok     ok     deny   ok     deny   deny
transfer_profiles:add                                    login  login  ok     deny   deny   ok     deny   deny
transfer_profiles:edit                                   login  login  ok     deny   deny   ok     deny   deny
transfer_profiles:delete                                 login  login  ok     deny   deny   deny   deny   deny
transfer_profiles:history                                login  login  ok     deny   deny   ok     deny   deny
transfer_profiles:history_results                        login  login  ok     deny   deny   ok     deny   deny
transfer_profiles:usage                                  login  login  ok     deny   deny   ok     deny   deny
transfer_profiles:copy                                   login  login  ok     deny   deny   ok     deny   deny
donation_intents:index                                   login  login  ok     ok     deny   ok     deny   deny
donation_intents:index_results                           login  login  ok     ok     deny   ok     deny   deny
stripe_events:index                                      login  login  ok     ok     deny   ok     deny   deny
stripe_events:index_results                              login  login  ok     ok     deny   ok     deny   deny
stripe_events:detail                                     login  login  ok     ok     deny   ok     deny   deny
POST stripe_events:retry                                 login  login  go     deny   deny   go     deny   deny
reconciliation:index                                     login  login  ok     ok     deny   ok     deny   deny
reconciliation:index_results                             login  login  ok     ok     deny   ok     deny   deny
reconciliation:detail                                    login  login  ok     ok     deny   ok     deny   deny
reconciliation:run                                       login  login  ok     deny   deny   ok     deny   deny
POST stripe_webhook                                      400    400    400    400    400    400    400    400  # unsigned: refused
campaigns:thanks                                         ok     ok     ok     ok     ok     ok     ok     ok  # a donor's own page, by unguessable id
campaigns:demo_checkout                                  404    404    404    404    404    404    404    404
campaigns:monthly_manage                                 login  ok     404    404    404    404    404    404  # a donor's own monthly gift
donor_portal:home                                        login  ok     403    403    403    403    403    403  # staff are not donors: 403
donor_portal:gifts                                       login  ok     403    403    403    403    403    403
donor_portal:gift                                        login  ok     403    403    403    403    403    403
donor_portal:profile                                     login  ok     403    403    403    403    403    403
donor_portal:preferences                                 login  ok     403    403    403    403    403    403
donor_portal:recurring_list                              login  ok     403    403    403    403    403    403
donor_portal:recurring                                   login  ok     403    403    403    403    403    403
donor_portal:receipts                                    login  ok     403    403    403    403    403    403
donor_portal:receipt_pdf                                 login  ok     403    403    403    403    403    403
POST donor_portal:receipt_reissue                        login  go     403    403    403    403    403    403
donor_portal:delete                                      login  ok     403    403    403    403    403    403
# -- allauth: sign-in, sign-up, MFA (public or own account) --------------------------------------
account_login                                            ok     go     go     go     go     go     go     go
account_logout                                           go     ok     ok     ok     ok     ok     ok     ok
account_inactive                                         ok     ok     ok     ok     ok     ok     ok     ok
account_signup                                           ok     go     go     go     go     go     go     go
account_reauthenticate                                   login  ok     ok     ok     ok     ok     ok     ok
account_request_reauthentication_code                    login  ok     ok     ok     ok     ok     ok     ok
account_confirm_reauthentication_code                    login  go     go     go     go     go     go     go
account_email                                            login  ok     ok     ok     ok     ok     ok     ok
account_email_verification_sent                          ok     ok     ok     ok     ok     ok     ok     ok
account_change_password                                  login  ok     ok     ok     ok     ok     ok     ok
account_set_password                                     login  go     go     go     go     go     go     go
account_reset_password                                   ok     ok     ok     ok     ok     ok     ok     ok
account_confirm_login_code                               go     go     go     go     go     go     go     go
account_confirm_email                                    ok     ok     ok     ok     ok     ok     ok     ok
account_reset_password_from_key_done                     ok     ok     ok     ok     ok     ok     ok     ok
account_reset_password_from_key                          ok     ok     ok     ok     ok     ok     ok     ok
account_reset_password_done                              ok     ok     ok     ok     ok     ok     ok     ok
account_request_login_code                               ok     go     go     go     go     go     go     go
mfa_index                                                login  ok     ok     ok     ok     ok     ok     ok
mfa_authenticate                                         login  go     go     go     go     go     go     go
mfa_reauthenticate                                       login  go     ok     ok     ok     ok     ok     ok
mfa_activate_totp                                        login  go     go     go     go     go     go     go
mfa_deactivate_totp                                      login  404    go     go     go     go     go     go
mfa_view_recovery_codes                                  login  404    404    404    404    404    404    404
mfa_generate_recovery_codes                              login  go     go     go     go     go     go     go
mfa_download_recovery_codes                              login  404    404    404    404    404    404    404
mfa_list_webauthn                                        login  ok     ok     ok     ok     ok     ok     ok
mfa_add_webauthn                                         login  go     go     go     go     go     go     go
mfa_reauthenticate_webauthn                              login  go     go     go     go     go     go     go
mfa_remove_webauthn                                      login  go     go     go     go     go     go     go
mfa_edit_webauthn                                        login  go     go     go     go     go     go     go
# -- Wagtail and Django built-ins -----------------------------------------------------------------
wagtailadmin_home                                        login  login  ok     ok     ok     ok     ok     ok
/admin/test404/                                          login  login  ok     ok     ok     ok     ok     ok
wagtailadmin_api:pages:*                                 login  login  open   open   open   open   open   open
wagtailadmin_api:documents:*                             login  login  open   open   open   open   open   open
wagtailadmin_api:images:*                                login  login  open   open   open   open   open   open
wagtailadmin_error_test                                  login  login  500    500    500    500    500    500  # Wagtail's deliberate error page
wagtailadmin_explore_root                                login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_explore                                     login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_explore_results                             login  login  ok     ok     deny   deny   deny   ok
wagtail_bulk_action                                      login  login  404    404    404    404    404    404
wagtailadmin_pages:add                                   login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_pages:preview_on_add                        login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_pages:type_use                              login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_pages:choose_parent                         login  login  go     go     ok     ok     ok     go
wagtailadmin_pages:type_use_results                      login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_pages:usage                                 login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_pages:edit                                  login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_pages:preview_on_edit                       login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_pages:view_draft                            login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_pages:add_subpage                           login  login  go     go     deny   deny   deny   go
wagtailadmin_pages:delete                                login  login  ok     deny   deny   deny   deny   ok
wagtailadmin_pages:unpublish                             login  login  ok     deny   deny   deny   deny   ok
wagtailadmin_pages:convert_alias                         login  login  404    404    404    404    404    404
wagtailadmin_pages:search                                login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_pages:search_results                        login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_pages:move                                  login  login  ok     deny   deny   deny   deny   ok
wagtailadmin_pages:move_confirm                          login  login  ok     ok     ok     ok     ok     ok  # Wagtail shows the confirmation; the move itself checks
wagtailadmin_pages:set_page_position                     login  login  405    405    405    405    405    405
wagtailadmin_pages:copy                                  login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_pages:workflow_action                       login  login  404    404    404    404    404    404
wagtailadmin_pages:collect_workflow_action_data          login  login  404    404    404    404    404    404
wagtailadmin_pages:confirm_workflow_cancellation         login  login  ok     ok     ok     ok     ok     ok
wagtailadmin_pages:workflow_preview                      login  login  deny   deny   deny   deny   deny   deny
wagtailadmin_pages:set_privacy                           login  login  ok     deny   deny   deny   deny   ok
wagtailadmin_pages:lock                                  login  login  405    405    405    405    405    405
wagtailadmin_pages:unlock                                login  login  405    405    405    405    405    405
wagtailadmin_pages:revisions_index                       login  login  go     go     go     go     go     go
wagtailadmin_pages:revisions_view                        login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_pages:revisions_revert                      login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_pages:revisions_unschedule                  login  login  ok     deny   deny   deny   deny   ok
wagtailadmin_pages:revisions_compare                     login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_pages:workflow_history                      login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_pages:workflow_history_detail               login  login  404    404    deny   deny   deny   404
wagtailadmin_pages:history                               login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_pages:history_results                       login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_choose_page                                 login  login  ok     ok     ok     ok     ok     ok
wagtailadmin_choose_page_child                           login  login  ok     ok     ok     ok     ok     ok
wagtailadmin_choose_page_search                          login  login  ok     ok     ok     ok     ok     ok
wagtailadmin_choose_page_chosen_multiple                 login  login  ok     ok     ok     ok     ok     ok
wagtailadmin_choose_page_external_link                   login  login  ok     ok     ok     ok     ok     ok
wagtailadmin_choose_page_email_link                      login  login  ok     ok     ok     ok     ok     ok
wagtailadmin_choose_page_phone_link                      login  login  ok     ok     ok     ok     ok     ok
wagtailadmin_choose_page_anchor_link                     login  login  ok     ok     ok     ok     ok     ok
wagtailadmin_tag_autocomplete                            login  login  ok     ok     ok     ok     ok     ok
wagtailadmin_tag_model_autocomplete                      login  login  404    404    404    404    404    404
wagtailadmin_collections:index                           login  login  deny   deny   deny   deny   deny   deny
wagtailadmin_collections:add                             login  login  deny   deny   deny   deny   deny   deny
wagtailadmin_collections:edit                            login  login  deny   deny   deny   deny   deny   deny
wagtailadmin_collections:delete                          login  login  404    404    404    404    404    404
wagtailadmin_collections:set_privacy                     login  login  deny   deny   deny   deny   deny   deny
wagtailadmin_workflows:index                             login  login  ok     deny   deny   deny   deny   deny
wagtailadmin_workflows:index_results                     login  login  ok     deny   deny   deny   deny   deny
wagtailadmin_workflows:add                               login  login  ok     deny   deny   deny   deny   deny
wagtailadmin_workflows:enable                            login  login  405    405    405    405    405    405
wagtailadmin_workflows:disable                           login  login  ok     deny   deny   deny   deny   deny
wagtailadmin_workflows:edit                              login  login  ok     deny   deny   deny   deny   deny
wagtailadmin_workflows:usage                             login  login  ok     deny   deny   deny   deny   deny
wagtailadmin_workflows:usage_results                     login  login  ok     deny   deny   deny   deny   deny
wagtailadmin_workflows:remove(page_pk)                   login  login  405    405    405    405    405    405
wagtailadmin_workflows:remove(page_pk,workflow_pk)       login  login  405    405    405    405    405    405
wagtailadmin_workflows:add_task                          login  login  ok     deny   deny   deny   deny   deny
wagtailadmin_workflows:select_task_type                  login  login  go     deny   deny   deny   deny   deny
wagtailadmin_workflows:task_index                        login  login  ok     deny   deny   deny   deny   deny
wagtailadmin_workflows:task_index_results                login  login  ok     deny   deny   deny   deny   deny
wagtailadmin_workflows:edit_task                         login  login  ok     deny   deny   deny   deny   deny
wagtailadmin_workflows:disable_task                      login  login  ok     deny   deny   deny   deny   deny
wagtailadmin_workflows:enable_task                       login  login  405    405    405    405    405    405
wagtailadmin_workflows:task_chooser                      login  login  ok     ok     ok     ok     ok     ok
wagtailadmin_workflows:task_chooser_results              login  login  ok     ok     ok     ok     ok     ok
wagtailadmin_workflows:task_chooser_create               login  login  ok     ok     ok     ok     ok     ok
wagtailadmin_workflows:task_chosen                       login  login  ok     ok     ok     ok     ok     ok
wagtailadmin_reports:locked_pages                        login  login  ok     deny   deny   deny   deny   ok
wagtailadmin_reports:locked_pages_results                login  login  ok     deny   deny   deny   deny   ok
wagtailadmin_reports:workflow                            login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_reports:workflow_results                    login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_reports:workflow_tasks                      login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_reports:workflow_tasks_results              login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_reports:site_history                        login  login  ok     ok     deny   ok     deny   deny  # shadowed by kyosei_site_history
wagtailadmin_reports:site_history_results                login  login  ok     ok     deny   ok     deny   deny  # shadowed
wagtailadmin_reports:aging_pages                         login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_reports:aging_pages_results                 login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_reports:page_types_usage                    login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_reports:page_types_usage_results            login  login  ok     ok     deny   deny   deny   ok
wagtailadmin_account                                     login  login  ok     ok     ok     ok     ok     ok
wagtailadmin_logout                                      login  login  405    405    405    405    405    405
wagtailadmin_dismissibles                                login  login  ok     ok     ok     ok     ok     ok
wagtailadmin_editing_sessions:ping                       login  login  405    405    405    405    405    405
wagtailadmin_editing_sessions:release                    login  login  405    405    405    405    405    405
wagtailadmin_block_preview                               login  login  404    404    404    404    404    404
wagtailsettings:*                                        login  login  open   deny   deny   deny   deny   deny
wagtailforms:index                                       login  login  ok     ok     deny   deny   deny   ok
wagtailforms:index_results                               login  login  ok     ok     deny   deny   deny   ok
wagtailforms:list_submissions                            login  login  404    404    404    404    404    404
wagtailforms:list_submissions_results                    login  login  404    404    404    404    404    404
wagtailforms:delete_submissions                          login  login  deny   deny   deny   deny   deny   deny
wagtailredirects:*                                       login  login  open   deny   deny   deny   deny   deny
simple_translation:submit_page_translation               login  login  ok     deny   deny   deny   deny   deny
simple_translation:submit_snippet_translation            login  login  404    deny   deny   deny   deny   deny
wagtailembeds:chooser                                    login  login  ok     ok     ok     ok     ok     ok
wagtailembeds:chooser_upload                             login  login  ok     ok     ok     ok     ok     ok
wagtailsnippets:index                                    login  login  deny   deny   deny   deny   deny   deny
wagtaildocs:index                                        login  login  ok     deny   deny   deny   deny   ok
wagtaildocs:index_results                                login  login  ok     deny   deny   deny   deny   ok
wagtaildocs:add                                          login  login  ok     deny   deny   deny   deny   ok
wagtaildocs:edit                                         login  login  ok     deny   deny   deny   deny   ok
wagtaildocs:delete                                       login  login  ok     deny   deny   deny   deny   ok
wagtaildocs:add_multiple                                 login  login  ok     deny   deny   deny   deny   ok
wagtaildocs:edit_multiple                                login  login  405    405    405    405    405    405
wagtaildocs:create_multiple_from_uploaded_document       login  login  405    405    405    405    405    405
wagtaildocs:delete_multiple                              login  login  405    405    405    405    405    405
wagtaildocs:delete_upload_multiple                       login  login  405    405    405    405    405    405
wagtaildocs:document_usage                               login  login  ok     deny   deny   deny   deny   ok
wagtailimages:index                                      login  login  ok     deny   deny   deny   deny   ok
wagtailimages:index_results                              login  login  ok     deny   deny   deny   deny   ok
wagtailimages:edit                                       login  login  ok     deny   deny   deny   deny   ok
wagtailimages:delete                                     login  login  ok     deny   deny   deny   deny   ok
wagtailimages:url_generator                              login  login  404    deny   deny   deny   deny   404
wagtailimages:url_generator_output                       login  login  404    deny   deny   deny   deny   404
wagtailimages:preview                                    login  login  ok     deny   deny   deny   deny   ok
wagtailimages:add                                        login  login  ok     deny   deny   deny   deny   ok
wagtailimages:image_usage                                login  login  ok     deny   deny   deny   deny   ok
wagtailimages:add_multiple                               login  login  ok     deny   deny   deny   deny   ok
wagtailimages:edit_multiple                              login  login  405    405    405    405    405    405
wagtailimages:create_multiple_from_uploaded_image        login  login  405    405    405    405    405    405
wagtailimages:delete_multiple                            login  login  405    405    405    405    405    405
wagtailimages:delete_upload_multiple                     login  login  405    405    405    405    405    405
wagtailsites:*                                           login  login  ok     deny   deny   deny   deny   deny
wagtailusers_users:*                                     login  login  ok     deny   deny   deny   deny   deny
wagtailusers_groups:*                                    login  login  ok     deny   deny   deny   deny   deny
wagtaildocs_chooser:choose                               login  login  ok     ok     ok     ok     ok     ok
wagtaildocs_chooser:choose_results                       login  login  ok     ok     ok     ok     ok     ok
wagtaildocs_chooser:chosen                               login  login  ok     ok     deny   deny   deny   ok
wagtaildocs_chooser:chosen_multiple                      login  login  ok     ok     ok     ok     ok     ok
wagtaildocs_chooser:create                               login  login  ok     deny   deny   deny   deny   ok
wagtailimages_chooser:choose                             login  login  ok     ok     ok     ok     ok     ok
wagtailimages_chooser:choose_results                     login  login  ok     ok     ok     ok     ok     ok
wagtailimages_chooser:chosen                             login  login  ok     ok     deny   deny   deny   ok
wagtailimages_chooser:chosen_multiple                    login  login  ok     ok     ok     ok     ok     ok
wagtailimages_chooser:create                             login  login  ok     deny   deny   deny   deny   ok
wagtailimages_chooser:select_format                      login  login  ok     ok     deny   deny   deny   ok
wagtaillocales:index                                     login  login  ok     deny   deny   deny   deny   deny
wagtaillocales:index_results                             login  login  ok     deny   deny   deny   deny   deny
wagtaillocales:add                                       login  login  deny   deny   deny   deny   deny   deny
wagtaillocales:edit                                      login  login  ok     deny   deny   deny   deny   deny
wagtaillocales:delete                                    login  login  ok     deny   deny   deny   deny   deny
wagtaillocales:history                                   login  login  ok     deny   deny   deny   deny   deny
wagtaillocales:history_results                           login  login  ok     deny   deny   deny   deny   deny
wagtaillocales:usage                                     login  login  ok     deny   deny   deny   deny   deny
wagtailadmin_sprite                                      ok     ok     ok     ok     ok     ok     ok     ok
wagtailadmin_login                                       login  login  login  login  login  login  login  login  # shadowed: → allauth
wagtailadmin_password_reset                              go     go     go     go     go     go     go     go  # shadowed: → allauth's reset
wagtailadmin_password_reset_done                         go     go     go     go     go     go     go     go  # shadowed: → allauth's reset
wagtailadmin_password_reset_confirm                      go     go     go     go     go     go     go     go  # shadowed: → allauth's reset
wagtailadmin_password_reset_complete                     go     go     go     go     go     go     go     go  # shadowed: → allauth's reset
wagtailadmin_javascript_catalog                          ok     ok     ok     ok     ok     ok     ok     ok
/admin/^.*/$                                             login  login  404    404    404    404    404    404
wagtaildocs_serve                                        ok     ok     ok     ok     ok     ok     ok     ok  # Wagtail documents are public
wagtaildocs_authenticate_with_password                   404    404    404    404    404    404    404    404
set_language                                             go     go     go     go     go     go     go     go
wagtailcore_authenticate_with_password                   404    404    404    404    404    404    404    404
wagtailcore_login                                        login  login  login  login  login  login  login  login  # shadowed: → allauth's login (issue 11 item 1)
wagtail_serve                                            ok     ok     ok     ok     ok     ok     ok     ok
"""  # noqa: E501
# fmt: on


def parse(table: str) -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for line in table.strip().splitlines():
        line = line.split("  #", 1)[0].rstrip()
        if not line or line.startswith("#"):
            continue
        key, *codes = line.split()
        if key == "POST":
            key, *codes = codes
            key = f"POST {key}"
        assert len(codes) == len(PRINCIPALS), f"{key}: {len(codes)} columns"
        assert set(codes) <= OUTCOMES, f"{key}: {set(codes) - OUTCOMES}"
        assert key not in rows, f"{key} twice"
        if key.endswith("*"):
            assert key.startswith(WILDCARD_PREFIXES), f"{key}: Kyosei URLs are explicit"
        else:
            assert "open" not in codes, f"{key}: 'open' is for wildcard rows"
        rows[key] = dict(zip(PRINCIPALS, codes, strict=True))
    return rows


TABLE = parse(MATRIX)


def row_for(route: Route) -> tuple[str, dict[str, str] | None]:
    """(HTTP method, the route's row) — the row ``None`` if it has none."""
    if f"POST {route.key}" in TABLE:
        return "post", TABLE[f"POST {route.key}"]
    if route.key in TABLE:
        return "get", TABLE[route.key]
    prefixes = [
        k[:-1] for k in TABLE if k.endswith("*") and route.key.startswith(k[:-1])
    ]
    return "get", TABLE[max(prefixes, key=len) + "*"] if prefixes else None


def outcome(response) -> str:
    status = response.status_code
    if status not in (301, 302):
        return "ok" if status == 200 else str(status)
    path = urlsplit(response["Location"]).path
    if path in LOGIN_PATHS:
        return "login"
    storage = getattr(response.wsgi_request, "_messages", None)
    refused = any(
        m.level == messages.ERROR for m in getattr(storage, "_queued_messages", [])
    )
    return "deny" if refused and path == reverse("wagtailadmin_home") else "go"


def matches(expected: str, got: str) -> bool:
    return got in OPEN if expected == "open" else got == expected


LOGIN_PATHS: set[str] = set()


@pytest.fixture
def _private_files(site, settings):
    """The seeded site's files, not the test's own empty folders (conftest)."""
    site_files(site, settings)


@pytest.fixture(scope="module")
def site(tmp_path_factory, django_db_blocker):
    # Who may open a URL does not depend on how many donors there are: the
    # demo organisation with a few donors keeps the matrix quick.
    yield from site_fixture(tmp_path_factory, django_db_blocker, full_demo=False)


@pytest.fixture(scope="module", autouse=True)
def _login_paths():
    LOGIN_PATHS.add(settings.WAGTAILADMIN_LOGIN_URL)
    LOGIN_PATHS.add(reverse("wagtailadmin_login"))  # forwards to allauth
    for language in LANGUAGES:
        with translation.override(language):
            LOGIN_PATHS.add(reverse("account_login"))


def visit(site, principal: str) -> dict[tuple[str, str], str]:
    """(route key, language) → outcome, for every URL, as ``principal``."""
    user = site.users[principal]
    client = Client(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False)
    if user is not None:
        mfa_login(client, user)
    results = {}
    for route in routes():
        method, _row = row_for(route)
        for language in LANGUAGES if route.i18n else ("ja",):
            response = getattr(client, method)(url_for(route, site, language))
            results[route.key, language] = outcome(response)
            cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
            if user is not None and (cookie is None or not cookie.value):
                # Wagtail's logout view drops the cookie even when it refuses GET.
                mfa_login(client, user)
    return results


def test_every_url_has_a_row():
    keys = {route.key for route in routes()}
    missing = sorted(route.key for route in routes() if row_for(route)[1] is None)
    assert not missing, "URLs without a row in MATRIX:\n" + "\n".join(missing)
    stale = sorted(
        key
        for key in TABLE
        if (
            not any(k.startswith(key[:-1]) for k in keys)
            if key.endswith("*")
            else key.removeprefix("POST ") not in keys
        )
    )
    assert not stale, "MATRIX rows for URLs that are gone:\n" + "\n".join(stale)


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_permission_matrix(site, db, principal):
    results = visit(site, principal)
    wrong = []
    for route in routes():
        method, row = row_for(route)
        if row is None:
            continue  # test_every_url_has_a_row names it
        for language in LANGUAGES if route.i18n else ("ja",):
            got = results[route.key, language]
            if not matches(row[principal], got):
                wrong.append(
                    f"{method.upper()} {route.key} [{language}] "
                    f"{url_for(route, site, language)}: "
                    f"expected {row[principal]}, got {got}"
                )
    assert not wrong, f"{principal}:\n" + "\n".join(wrong)
