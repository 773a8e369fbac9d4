"""Cart, orders and billing addresses (the commerce rows of API.md before payment)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import IDEMPOTENCY_HEADER, idempotent
from core.openapi import errors_of
from core.serializers import MAX_ID, StrictCharField
from payments import selectors
from payments.errors import (
    ORDER_TRANSITION_ERRORS,
    AlreadyInCart,
    AlreadyOwned,
    CartFull,
    DefaultRequired,
    DuplicateItem,
    EmptyOrder,
    NotForSale,
    OrderExpired,
    OrderInProgress,
    OrderLimitExceeded,
    OrderNotCancellable,
    OrderNotFound,
)
from payments.models import BillingAddress, Order
from payments.serializers import (
    BillingAddressSerializer,
    CartItemSerializer,
    CartSerializer,
    OrderDetailSerializer,
    OrderSerializer,
)
from payments.services import billing, cart, orders
from payments.services.products import ProductRef

ITEM_ID = OpenApiParameter("item_id", int, OpenApiParameter.PATH)
ORDER_ID = OpenApiParameter("order_id", int, OpenApiParameter.PATH)
ADDRESS_ID = OpenApiParameter("address_id", int, OpenApiParameter.PATH)


class ProductInputSerializer(serializers.Serializer):
    course = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    curriculum = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)

    def validate(self, attrs):
        if len(attrs) != 1:
            raise serializers.ValidationError("Give exactly one of `course` or `curriculum`.")
        return ProductRef(course_id=attrs.get("course"), curriculum_id=attrs.get("curriculum"))


class CartApi(APIView):
    @extend_schema(operation_id="cart_retrieve", responses={200: CartSerializer})
    def get(self, request):
        cart = selectors.cart_get(user=request.user)
        return Response(CartSerializer(cart).data)


class CartItemCreateApi(APIView):
    @extend_schema(
        operation_id="cart_items_create",
        request=ProductInputSerializer,
        responses={
            201: CartItemSerializer,
            **errors_of(NotForSale, OrderLimitExceeded, AlreadyInCart, AlreadyOwned, CartFull),
        },
        description="Adding a curriculum replaces the cart's items for its own courses.",
    )
    def post(self, request):
        serializer = ProductInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = cart.cart_item_add(user=request.user, product=serializer.validated_data)
        return Response(CartItemSerializer(item).data, status=status.HTTP_201_CREATED)


class CartItemDeleteApi(APIView):
    @extend_schema(operation_id="cart_items_destroy", parameters=[ITEM_ID], responses={204: None})
    def delete(self, request, item_id: int):
        cart.cart_item_remove(user=request.user, item_id=item_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OrderListCreateApi(ListAPIView):
    serializer_class = OrderSerializer
    queryset = Order.objects.none()  # for the schema; the real one is the caller's

    class InputSerializer(serializers.Serializer):
        from_cart = serializers.BooleanField(required=False, default=False)
        items = ProductInputSerializer(  # type: ignore[call-arg]  # stubs lack many=True's max_length
            many=True, required=False, max_length=50
        )
        billing_address = serializers.IntegerField(
            min_value=1,
            max_value=MAX_ID,
            required=False,
            help_text="One of yours; default: your default address.",
        )

        def validate(self, attrs):
            if attrs["from_cart"] == ("items" in attrs):
                raise serializers.ValidationError(
                    'Send either {"from_cart": true} or {"items": [...]}.'
                )
            return attrs

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.order_list(user=self.request.user)

    @extend_schema(operation_id="orders_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="orders_create",
        parameters=[IDEMPOTENCY_HEADER],
        request=InputSerializer,
        responses={
            201: OrderSerializer,
            **errors_of(
                EmptyOrder,
                NotForSale,
                DuplicateItem,
                OrderLimitExceeded,
                AlreadyOwned,
                OrderInProgress,
                *ORDER_TRANSITION_ERRORS,
            ),
        },
        description="Prices are copied into the order now. A previous pending order is cancelled "
        "(or closed as expired). The order is payable until its `expires_at` (ORDER_PENDING_TTL "
        "after now); after that it is closed as `expired` and must be placed again.",
    )
    @idempotent
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = orders.order_create(
            user=request.user,
            from_cart=data["from_cart"],
            items=data.get("items"),
            billing_address_id=data.get("billing_address"),
        )
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)


class OrderDetailApi(APIView):
    @extend_schema(
        operation_id="orders_retrieve",
        parameters=[ORDER_ID],
        responses={200: OrderDetailSerializer},
    )
    def get(self, request, order_id: int):
        order = selectors.order_get(user=request.user, order_id=order_id)
        return Response(OrderDetailSerializer(order).data)


class OrderCancelApi(APIView):
    @extend_schema(
        operation_id="orders_cancel",
        parameters=[ORDER_ID],
        request=None,
        responses={
            200: OrderDetailSerializer,
            **errors_of(OrderNotFound, OrderNotCancellable, OrderExpired, *ORDER_TRANSITION_ERRORS),
        },
    )
    def post(self, request, order_id: int):
        order = orders.order_cancel(user=request.user, order_id=order_id)
        return Response(OrderDetailSerializer(order).data)


class BillingAddressInputSerializer(serializers.Serializer):
    name = StrictCharField(max_length=100)
    phone = StrictCharField(max_length=30, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    country = serializers.RegexField(r"^[A-Z]{2}$", required=False, help_text="ISO 3166-1 alpha-2.")
    postal_code = StrictCharField(max_length=20, required=False, allow_blank=True)
    line1 = StrictCharField(max_length=200)
    line2 = StrictCharField(max_length=200, required=False, allow_blank=True)
    is_default = serializers.BooleanField(required=False)


class BillingAddressListCreateApi(ListAPIView):
    serializer_class = BillingAddressSerializer
    queryset = BillingAddress.objects.none()  # for the schema; the real one is the caller's

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.billing_address_list(user=self.request.user)

    @extend_schema(operation_id="billing_addresses_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="billing_addresses_create",
        request=BillingAddressInputSerializer,
        responses={201: BillingAddressSerializer},
        description="The first address becomes the default; `is_default: true` moves it.",
    )
    def post(self, request):
        serializer = BillingAddressInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        address = billing.billing_address_create(user=request.user, **serializer.validated_data)
        return Response(BillingAddressSerializer(address).data, status=status.HTTP_201_CREATED)


class BillingAddressDetailApi(APIView):
    @extend_schema(
        operation_id="billing_addresses_retrieve",
        parameters=[ADDRESS_ID],
        responses={200: BillingAddressSerializer},
    )
    def get(self, request, address_id: int):
        address = selectors.billing_address_get(user=request.user, address_id=address_id)
        return Response(BillingAddressSerializer(address).data)

    @extend_schema(
        operation_id="billing_addresses_partial_update",
        parameters=[ADDRESS_ID],
        request=BillingAddressInputSerializer(partial=True),
        responses={200: BillingAddressSerializer, **errors_of(DefaultRequired)},
    )
    def patch(self, request, address_id: int):
        serializer = BillingAddressInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        address = billing.billing_address_update(
            user=request.user, address_id=address_id, **serializer.validated_data
        )
        return Response(BillingAddressSerializer(address).data)

    @extend_schema(
        operation_id="billing_addresses_destroy", parameters=[ADDRESS_ID], responses={204: None}
    )
    def delete(self, request, address_id: int):
        billing.billing_address_delete(user=request.user, address_id=address_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
