from django.urls import path

from payments import views

urlpatterns = [
    path("<str:transaction_id>/", views.sandbox_checkout, name="sandbox-checkout"),
]
