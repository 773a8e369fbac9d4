"""The accounts endpoints that read a JSON body, a valid body for each, and the look-alike text
the bad-input tests send."""

from accounts.tests.factories import DEFAULT_PASSWORD

NEW_PASSWORD = "Quartz-Lantern-42"


# Endpoints that read a JSON body: method, path, whether the caller must be logged in.
ENDPOINTS = {
    "register": ("POST", "/api/auth/register/", False),
    "login": ("POST", "/api/auth/login/", False),
    "token_refresh": ("POST", "/api/auth/token/refresh/", False),
    "token_verify": ("POST", "/api/auth/token/verify/", False),
    "logout": ("POST", "/api/auth/logout/", False),
    "password_change": ("POST", "/api/auth/password/change/", True),
    "password_reset": ("POST", "/api/auth/password/reset/", False),
    "password_reset_confirm": ("POST", "/api/auth/password/reset/confirm/", False),
    "me_update": ("PATCH", "/api/users/me/", True),
}
VALID_BODIES = {
    "register": lambda s: {
        "email": "newcomer@example.com",
        "username": "newcomer",
        "password": NEW_PASSWORD,
        "password_confirm": NEW_PASSWORD,
    },
    "login": lambda s: {"login": s.user.email, "password": DEFAULT_PASSWORD},
    "token_refresh": lambda s: {"refresh": s.pair.refresh},
    "token_verify": lambda s: {"token": s.pair.access},
    "logout": lambda s: {"refresh": s.pair.refresh},
    "password_change": lambda s: {
        "current_password": DEFAULT_PASSWORD,
        "new_password": NEW_PASSWORD,
    },
    "password_reset": lambda s: {"email": s.user.email},
    "password_reset_confirm": lambda s: {
        "uid": s.uid,
        "token": s.reset_token,
        "new_password": NEW_PASSWORD,
    },
    "me_update": lambda s: {"name": "Changed Name"},
}
REQUIRED_FIELDS = {
    "register": ["email", "username", "password", "password_confirm"],
    "login": ["login", "password"],
    "token_refresh": ["refresh"],
    "token_verify": ["token"],
    "logout": ["refresh"],
    "password_change": ["current_password", "new_password"],
    "password_reset": ["email"],
    "password_reset_confirm": ["uid", "token", "new_password"],
}
# Fields validated as strings; the refresh token fields are checked apart (401 by design).
STRING_FIELDS = {
    "register": ["email", "username", "password", "password_confirm", "name", "part"],
    "login": ["login", "password"],
    "token_verify": ["token"],
    "password_change": ["current_password", "new_password"],
    "password_reset": ["email"],
    "password_reset_confirm": ["uid", "token", "new_password"],
    "me_update": ["name", "username", "part", "introduction", "phone"],
}
LONG_EMAIL = "a" * 243 + "@example.com"  # 255 characters, one over the limit


def fullwidth(text: str) -> str:
    """ASCII letters as their fullwidth forms, which render almost alike (U+FF01 to U+FF5E)."""
    return text.translate({code: code + 0xFEE0 for code in range(0x21, 0x7F)})
