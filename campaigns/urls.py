"""Public donate URLs (inside i18n_patterns: /donate/…, /en/donate/…)."""

from django.urls import path

from campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("thanks/<uuid:uuid>/", views.thanks, name="thanks"),
    path("demo-checkout/<uuid:uuid>/", views.demo_checkout, name="demo_checkout"),
    path("monthly/<int:pk>/", views.monthly_manage, name="monthly_manage"),
]
