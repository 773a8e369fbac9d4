"""Social login (Google, Kakao): the provider calls (providers), the SOCIAL_AUTH_PIPELINE steps
that pick or make the local account (pipeline), and the service that turns a provider identity
into one of our sessions (services)."""
