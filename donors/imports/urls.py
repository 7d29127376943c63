from django.urls import path

from donors.imports import spreadsheet_views, views

app_name = "donor_imports"

urlpatterns = [
    path("", views.index, name="index"),
    path("upload/", views.upload, name="upload"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/progress/", views.progress, name="progress"),
    path("<int:pk>/apply/", views.apply, name="apply"),
    path("<int:pk>/undo/", views.undo, name="undo"),
    path("<int:pk>/retry/", views.retry, name="retry"),
    path("<int:pk>/abandon/", views.abandon, name="abandon"),
    path("spreadsheets/", spreadsheet_views.index, name="spreadsheet_index"),
    path(
        "spreadsheets/upload/",
        spreadsheet_views.upload,
        name="spreadsheet_upload",
    ),
    path(
        "spreadsheets/<int:pk>/",
        spreadsheet_views.detail,
        name="spreadsheet_detail",
    ),
    path(
        "spreadsheets/<int:pk>/columns/",
        spreadsheet_views.mapping,
        name="spreadsheet_map",
    ),
    path(
        "spreadsheets/<int:pk>/progress/",
        spreadsheet_views.progress,
        name="spreadsheet_progress",
    ),
    path(
        "spreadsheets/<int:pk>/confirm/",
        spreadsheet_views.confirm,
        name="spreadsheet_confirm",
    ),
    path(
        "spreadsheets/<int:pk>/retry/",
        spreadsheet_views.retry,
        name="spreadsheet_retry",
    ),
    path(
        "spreadsheets/<int:pk>/abandon/",
        spreadsheet_views.abandon,
        name="spreadsheet_abandon",
    ),
]
