from django.urls import path

from donors.portal import views

app_name = "donor_portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("gifts/", views.gift_list, name="gifts"),
    path("gifts/<int:pk>/", views.gift_detail, name="gift"),
    path("profile/", views.profile, name="profile"),
    path("preferences/", views.preferences, name="preferences"),
    path("monthly/", views.recurring_list, name="recurring_list"),
    path("monthly/<int:pk>/", views.recurring_detail, name="recurring"),
    path("receipts/", views.receipt_list, name="receipts"),
    path("receipts/<int:pk>/pdf/", views.receipt_pdf, name="receipt_pdf"),
    path(
        "receipts/<int:pk>/reissue/",
        views.receipt_reissue_request,
        name="receipt_reissue",
    ),
    path("delete/", views.delete_account, name="delete"),
]
