from django.urls import path
from django.views.decorators.cache import never_cache

from accounts.apis import auth, passwords, sessions, social, teams, users

# Tokens and personal data: never stored by a browser or a proxy (Cache-Control: no-store).
private_urlpatterns = [
    path("auth/register/", auth.RegisterApi.as_view(), name="auth-register"),
    path("auth/availability/", auth.AvailabilityApi.as_view(), name="auth-availability"),
    path("auth/login/", auth.LoginApi.as_view(), name="auth-login"),
    path("auth/token/refresh/", sessions.TokenRefreshApi.as_view(), name="auth-token-refresh"),
    path("auth/token/verify/", sessions.TokenVerifyApi.as_view(), name="auth-token-verify"),
    path("auth/logout/", sessions.LogoutApi.as_view(), name="auth-logout"),
    path("auth/logout-all/", sessions.LogoutAllApi.as_view(), name="auth-logout-all"),
    path("auth/sessions/", sessions.SessionListApi.as_view(), name="auth-sessions"),
    path(
        "auth/sessions/<uuid:session_id>/",
        sessions.SessionDeleteApi.as_view(),
        name="auth-session-delete",
    ),
    path(
        "auth/password/change/", passwords.PasswordChangeApi.as_view(), name="auth-password-change"
    ),
    path("auth/password/reset/", passwords.PasswordResetApi.as_view(), name="auth-password-reset"),
    path(
        "auth/password/reset/confirm/",
        passwords.PasswordResetConfirmApi.as_view(),
        name="auth-password-reset-confirm",
    ),
    path("auth/social/<str:provider>/", social.SocialLoginApi.as_view(), name="auth-social"),
    path("users/me/", users.MeApi.as_view(), name="users-me"),
    path("users/", users.UserListApi.as_view(), name="users-list"),
    path("users/<int:user_id>/", users.UserDetailApi.as_view(), name="users-detail"),
]
for pattern in private_urlpatterns:
    pattern.callback = never_cache(pattern.callback)

urlpatterns = [
    *private_urlpatterns,
    path("teams/", teams.TeamListCreateApi.as_view(), name="teams"),
]
