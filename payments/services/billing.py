"""Billing addresses: exactly one default per user once there is any (a DB constraint backs it)."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import Http404

from payments.errors import DefaultRequired
from payments.models import BillingAddress


def _locked_addresses(user):
    # The user's row is the lock that serialises a user's address changes: locking the addresses
    # alone locks nothing before the first one exists, and two concurrent first addresses would
    # both become the default (the partial unique constraint would then fail one with a 500).
    list(get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk"))
    return list(BillingAddress.objects.select_for_update().filter(user=user).order_by("pk"))


@transaction.atomic
def billing_address_create(*, user, is_default: bool = False, **fields) -> BillingAddress:
    existing = _locked_addresses(user)
    make_default = is_default or not existing
    if make_default:
        BillingAddress.objects.filter(user=user, is_default=True).update(is_default=False)
    return BillingAddress.objects.create(user=user, is_default=make_default, **fields)


@transaction.atomic
def billing_address_update(*, user, address_id: int, **fields) -> BillingAddress:
    addresses = {address.pk: address for address in _locked_addresses(user)}
    address = addresses.get(address_id)
    if address is None:
        raise Http404
    is_default = fields.pop("is_default", None)
    if is_default is False and address.is_default:
        raise DefaultRequired()
    if is_default and not address.is_default:
        BillingAddress.objects.filter(user=user, is_default=True).update(is_default=False)
        address.is_default = True
    for field, value in fields.items():
        setattr(address, field, value)
    address.save()
    return address


@transaction.atomic
def billing_address_delete(*, user, address_id: int) -> None:
    """Deleting the default makes the most recently created remaining address the default."""
    addresses = _locked_addresses(user)
    address = next((address for address in addresses if address.pk == address_id), None)
    if address is None:
        raise Http404
    # Chosen before the delete, which sets the deleted instance's pk to None.
    remaining = [other for other in addresses if other.pk != address_id]
    address.delete()
    if address.is_default and remaining:
        newest = max(remaining, key=lambda other: (other.created_at, other.pk))
        BillingAddress.objects.filter(pk=newest.pk).update(is_default=True)
