"""Admin forms bound to CustomUser (Django's defaults are bound to auth.User)."""

from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts.models import CustomUser


class CustomUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = CustomUser
        fields = ("email", "username", "role")


class CustomUserChangeForm(UserChangeForm):
    class Meta:
        model = CustomUser
        fields = "__all__"
