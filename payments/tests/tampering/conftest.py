"""The attacker tests' scene: a victim with purchases in every state, and the attacker's
client (the `user` fixture's)."""

from dataclasses import dataclass

import pytest

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from courses.tests.factories import CourseFactory
from payments.models import CartItem
from payments.tests.factories import BillingAddressFactory
from payments.tests.flows import (
    buy_with_sandbox,
    order_for,
    payment_start,
    pg_token_of,
    sandbox_authorise,
)


@dataclass(frozen=True)
class Purchases:
    """One user's commerce rows: a paid payment, a pending one with its pg_token, a cart item
    and a billing address."""

    user: object
    paid: dict
    order: dict
    pending: dict
    pg_token: str
    cart_item: int
    address: int

    def format(self, template: str) -> str:
        return template.format(
            paid=self.paid["id"],
            paid_order=self.paid["order"],
            pending=self.pending["id"],
            order=self.order["id"],
            pg_token=self.pg_token,
            item=self.cart_item,
            address=self.address,
        )


@pytest.fixture
def victim() -> Purchases:
    owner = UserFactory.create()
    client = client_for(owner)
    address = BillingAddressFactory.create(user=owner, is_default=True)
    paid = buy_with_sandbox(client, CourseFactory(price=20000))
    order = order_for(client, CourseFactory(price=15000))
    started = payment_start(client, order["id"])
    token = pg_token_of(sandbox_authorise(client, started["redirect_url"]))
    item = CartItem.objects.create(user=owner, course=CourseFactory.create())
    return Purchases(owner, paid, order, started["payment"], token, item.pk, address.pk)


@pytest.fixture
def buyer_client(user):
    return client_for(user)
