"""Login sessions and their tokens: issuing and reading JWTs, authenticating requests, the session
and user cache, the refresh cookie, the credential endpoints' throttles and the OpenAPI scheme.

Everything this process remembers between requests is in `state.auth_state`.
"""
