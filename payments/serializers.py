"""Output shapes of the commerce API (inputs live on each API as InputSerializer)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from payments.models import (
    BillingAddress,
    CartItem,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Payment,
)


class ProductKindField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=("course", "curriculum"), read_only=True, source="*", **kwargs)

    def to_representation(self, item) -> str:
        return "course" if item.course_id else "curriculum"


class CartItemSerializer(serializers.ModelSerializer):
    kind = ProductKindField()
    title = serializers.CharField(source="product.title", read_only=True)
    price = serializers.IntegerField(source="product.price", read_only=True, help_text="KRW, now.")
    added_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = CartItem
        fields = ("id", "kind", "course", "curriculum", "title", "price", "added_at")


class CartSerializer(serializers.Serializer):
    items = CartItemSerializer(many=True)
    count = serializers.IntegerField()
    total = serializers.IntegerField(help_text="Sum of the current prices, KRW.")


class OrderLineSerializer(serializers.ModelSerializer):
    kind = ProductKindField()

    class Meta:
        model = OrderLine
        fields = ("id", "kind", "course", "curriculum", "title", "price")
        extra_kwargs = {"price": {"help_text": "KRW at order time; later changes do not apply."}}


class BillingSnapshotSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    country = serializers.CharField()
    postal_code = serializers.CharField()
    line1 = serializers.CharField()
    line2 = serializers.CharField()


class OrderSerializer(serializers.ModelSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    billing_address = BillingSnapshotSerializer(
        read_only=True, allow_null=True, help_text="As it was when the order was placed."
    )
    expires_at = serializers.SerializerMethodField(
        help_text="Pending orders: when the order stops being payable (ORDER_PENDING_TTL after "
        "it was placed); then it is closed as `expired`. Null once not pending."
    )

    class Meta:
        model = Order
        fields: tuple[str, ...] = (
            "id",
            "status",
            "total",
            "currency",
            "lines",
            "billing_address",
            "created_at",
            "expires_at",
            "paid_at",
            "closed_at",
        )

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_expires_at(self, order):
        if order.status != OrderStatus.PENDING:
            return None
        return serializers.DateTimeField().to_representation(order.expires_at)


class OrderEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderEvent
        fields = ("type", "from_status", "to_status", "created_at")


class PaymentSerializer(serializers.ModelSerializer):
    refundable_until = serializers.SerializerMethodField()

    class Meta:
        model = Payment
        fields = (
            "id",
            "order",
            "provider",
            "status",
            "amount",
            "method",
            "transaction_id",
            "failure_code",
            "failure_message",
            "created_at",
            "approved_at",
            "refunded_at",
            "refundable_until",
        )

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_refundable_until(self, payment):
        until = payment.refundable_until
        return serializers.DateTimeField().to_representation(until) if until else None


class OrderDetailSerializer(OrderSerializer):
    events = OrderEventSerializer(many=True, read_only=True)
    payments = PaymentSerializer(many=True, read_only=True)

    class Meta(OrderSerializer.Meta):
        fields = (*OrderSerializer.Meta.fields, "events", "payments")


class RedirectUrlsSerializer(serializers.Serializer):
    pc = serializers.URLField()
    mobile = serializers.URLField(required=False)
    app = serializers.URLField(required=False)


class PaymentStartSerializer(serializers.Serializer):
    payment = PaymentSerializer()
    redirect_url = serializers.URLField(help_text="Send the buyer here (desktop browsers).")
    redirect_urls = RedirectUrlsSerializer(help_text="Per device, as the provider gave them.")


class ReceiptSerializer(PaymentSerializer):
    receipt_number = serializers.CharField(read_only=True)
    currency = serializers.CharField(source="order.currency", read_only=True)
    lines = OrderLineSerializer(source="order.lines", many=True, read_only=True)
    billing_address = BillingSnapshotSerializer(
        source="order.billing_address", read_only=True, allow_null=True
    )

    class Meta(PaymentSerializer.Meta):
        fields = (
            "id",
            "receipt_number",
            "order",
            "status",
            "provider",
            "method",
            "amount",
            "currency",
            "lines",
            "billing_address",
            "approved_at",
            "refunded_at",
            "refundable_until",
        )


class BillingAddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = BillingAddress
        fields = (
            "id",
            "name",
            "phone",
            "email",
            "country",
            "postal_code",
            "line1",
            "line2",
            "is_default",
            "created_at",
        )
