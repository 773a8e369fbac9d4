"""The avatar on the caller's user object: read through accounts' registry, set by PATCH
/api/users/me/ {"avatar": image id or null}."""

from django.core.exceptions import ValidationError
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from accounts.registry import current_user_contributions_changed
from core.files import file_public_url
from videos.models import Image, UserAvatar


def avatar_of(user) -> dict | None:
    avatar = UserAvatar.objects.filter(user=user).select_related("image").first()
    if avatar is None:
        return None
    # No request here (the value is cached with the user): PUBLIC_BASE_URL makes it absolute.
    return {"id": avatar.image_id, "url": file_public_url(avatar.image.file)}


def avatar_set(*, user, value: int | None) -> None:
    if value is None:
        UserAvatar.objects.filter(user=user).delete()
        return
    image = Image.objects.filter(pk=value, owner=user).first()
    if image is None:
        raise ValidationError({"avatar": [_("Choose one of your own images.")]})
    UserAvatar.objects.update_or_create(user=user, defaults={"image": image})


@receiver(post_save, sender=UserAvatar)
@receiver(post_delete, sender=UserAvatar)
def _avatar_changed(sender, instance: UserAvatar, **kwargs) -> None:
    # Also fires when the image is deleted (cascade), so a cached avatar never outlives it.
    current_user_contributions_changed([instance.user_id])
