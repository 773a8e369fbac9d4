"""Admin forms bound to CustomUser (Django's defaults are bound to auth.User)."""

from typing import Any

from django import forms
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from accounts.identity import email_canonical_or_none, username_display
from accounts.models import CustomUser
from accounts.selectors import username_is_available


class CanonicalIdentityMixin:
    """Emails and usernames compared in their canonical forms, as the API does: the model's
    own unique check sees only the typed spelling."""

    # Provided by the ModelForm this is mixed into.
    cleaned_data: dict[str, Any]
    instance: CustomUser

    def clean_email(self) -> str:
        email = email_canonical_or_none(self.cleaned_data.get("email") or "")
        if email is None:
            raise forms.ValidationError(_("Enter a valid email address."), code="invalid")
        taken = CustomUser.objects.filter(email=email).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(
                _("An account with this email already exists."), code="unique"
            )
        return email

    def clean_username(self) -> str:
        username = username_display(self.cleaned_data.get("username") or "")
        if not username_is_available(username=username, exclude_user=self.instance):
            raise forms.ValidationError(_("This username is taken."), code="unique")
        return username


class CustomUserCreationForm(CanonicalIdentityMixin, AdminUserCreationForm):
    class Meta:
        model = CustomUser
        fields = ("email", "username", "role")


class CustomUserChangeForm(CanonicalIdentityMixin, UserChangeForm):
    class Meta:
        model = CustomUser
        fields = "__all__"
