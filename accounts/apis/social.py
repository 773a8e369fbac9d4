"""Placeholder replaced by the social login implementation."""

from rest_framework.views import APIView


class SocialLoginApi(APIView):
    pass
