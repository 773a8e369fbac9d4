"""OpenAPI description of the bearer-token authentication."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class SessionJWTScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.auth.authentication.SessionJWTAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema):
        scheme = build_bearer_security_scheme_object(
            header_name="HTTP_AUTHORIZATION",
            # A scheme's name, which ruff and bandit take for a password.
            token_prefix="Bearer",  # noqa: S106  # nosec B106
            bearer_format="JWT",
        )
        scheme["description"] = (
            "Access token from login/refresh. The prefix `JWT` is accepted too. "
            "Tokens stop working at once on logout, password change and deactivation."
        )
        return scheme
