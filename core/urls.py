from django.urls import path

from core.apis import HealthApi, HealthLiveApi, HealthReadyApi

urlpatterns = [
    path("health/", HealthApi.as_view(), name="health"),
    path("health/live/", HealthLiveApi.as_view(), name="health-live"),
    path("health/ready/", HealthReadyApi.as_view(), name="health-ready"),
]
