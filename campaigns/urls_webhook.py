"""The Stripe webhook, outside the language prefixes: /stripe/webhook/."""

from django.urls import path

from campaigns import views

urlpatterns = [path("webhook/", views.stripe_webhook, name="stripe_webhook")]
