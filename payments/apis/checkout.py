"""Payments (start, provider callbacks, refund) and receipts."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import IDEMPOTENCY_HEADER, idempotent
from core.openapi import errors_of
from core.serializers import MAX_ID
from payments import selectors
from payments.errors import (
    ORDER_TRANSITION_ERRORS,
    AlreadyRefunded,
    AmountMismatch,
    ApprovalRefused,
    NotForSale,
    OrderExpired,
    OrderNotFound,
    OrderNotPayable,
    PaymentChanged,
    PaymentDeclined,
    PaymentNotPending,
    PaymentNotRefundable,
    PaymentProviderUnavailable,
    PriceChanged,
    ProviderNotAvailable,
    RefundDeclined,
    RefundWindowPassed,
)
from payments.models import Payment, PaymentProviderName
from payments.serializers import PaymentSerializer, PaymentStartSerializer, ReceiptSerializer
from payments.services import payments as services
from payments.services import refunds

PAYMENT_ID = OpenApiParameter("payment_id", int, OpenApiParameter.PATH)
RETURN_TRIP = (
    "The provider sends the buyer's browser to the frontend route "
    "`PAYMENT_CALLBACK_BASE_URL/{payment_id}/approve|cancel|fail/` (with `?pg_token=` on "
    "approve); that page calls this operation with the buyer's bearer token."
)
APPROVE_ERRORS = errors_of(
    ProviderNotAvailable,
    ApprovalRefused,
    PaymentDeclined,
    PaymentNotPending,
    OrderExpired,
    AmountMismatch,
    PaymentChanged,
    *ORDER_TRANSITION_ERRORS,
    PaymentProviderUnavailable,
)
APPROVE_DESCRIPTION = (
    "Charges the amount stored on the order and unlocks its courses. Calling it again (or "
    "concurrently) returns the same paid payment; the provider charges once. A payment started "
    "while its order was payable is honoured even if the order expired or a price changed since: "
    "the buyer authorised that amount at the provider, which keeps its own time limit. "
)


class PaymentCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        order = serializers.IntegerField(min_value=1, max_value=MAX_ID)
        provider = serializers.ChoiceField(
            choices=PaymentProviderName.choices,
            help_text="`kakaopay`; `sandbox` outside production.",
        )

    @extend_schema(
        operation_id="payments_create",
        parameters=[IDEMPOTENCY_HEADER],
        request=InputSerializer,
        responses={
            201: PaymentStartSerializer,
            **errors_of(
                ProviderNotAvailable,
                NotForSale,
                PaymentDeclined,
                OrderNotFound,
                OrderNotPayable,
                OrderExpired,
                PriceChanged,
                *ORDER_TRANSITION_ERRORS,
                PaymentProviderUnavailable,
            ),
        },
        description="Registers a payment of the order's stored total with the provider; send the "
        "buyer to `redirect_url`. The amount is never taken from the client. The order must "
        "still be pending and not expired, and every line still for sale at its ordered price.",
    )
    @idempotent
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment, urls = services.payment_start(
            user=request.user,
            order_id=serializer.validated_data["order"],
            provider=serializer.validated_data["provider"],
        )
        body = {"payment": payment, "redirect_url": urls["pc"], "redirect_urls": urls}
        return Response(PaymentStartSerializer(body).data, status=status.HTTP_201_CREATED)


class PaymentDetailApi(APIView):
    @extend_schema(
        operation_id="payments_retrieve",
        parameters=[PAYMENT_ID],
        responses={200: PaymentSerializer},
    )
    def get(self, request, payment_id: int):
        payment = selectors.payment_get(user=request.user, payment_id=payment_id)
        return Response(PaymentSerializer(payment).data)


class PgTokenSerializer(serializers.Serializer):
    pg_token = serializers.CharField(
        max_length=200, help_text="From the provider's redirect to the approval route."
    )


def _approve(request, payment_id: int, data) -> Response:
    serializer = PgTokenSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    payment = services.payment_approve(
        user=request.user,
        payment_id=payment_id,
        pg_token=serializer.validated_data["pg_token"],
    )
    return Response(PaymentSerializer(payment).data)


class PaymentApproveApi(APIView):
    @extend_schema(
        operation_id="payments_approve",
        parameters=[PAYMENT_ID],
        request=PgTokenSerializer,
        responses={200: PaymentSerializer, **APPROVE_ERRORS},
        description=f"{APPROVE_DESCRIPTION}{RETURN_TRIP}",
    )
    def post(self, request, payment_id: int):
        return _approve(request, payment_id, request.data)

    @extend_schema(
        operation_id="payments_approve_by_query",
        deprecated=True,
        parameters=[
            PAYMENT_ID,
            OpenApiParameter(
                "pg_token",
                str,
                OpenApiParameter.QUERY,
                required=True,
                description="From the provider's redirect to the approval route.",
            ),
        ],
        responses={200: PaymentSerializer, **APPROVE_ERRORS},
        description="Deprecated: use POST with `pg_token` in the body (a token in a URL ends "
        f"up in logs). Same behaviour. {APPROVE_DESCRIPTION}",
    )
    def get(self, request, payment_id: int):
        return _approve(request, payment_id, request.query_params)


def _abandon(request, payment_id: int, *, failed: bool) -> Response:
    payment = services.payment_abandon(user=request.user, payment_id=payment_id, failed=failed)
    return Response(PaymentSerializer(payment).data)


def _abandon_schema(operation_id: str, description: str, *, deprecated: bool = False):
    if deprecated:
        description = f"Deprecated: use POST (same behaviour). {description}"
    return extend_schema(
        operation_id=operation_id,
        parameters=[PAYMENT_ID],
        request=None,
        responses={200: PaymentSerializer, **errors_of(PaymentNotPending)},
        description=description if deprecated else f"{description} {RETURN_TRIP}",
        deprecated=deprecated,
    )


CANCELLED_AT_PROVIDER = "The buyer cancelled at the provider. The order stays payable."
FAILED_AT_PROVIDER = "The provider reported a failure. The order stays payable."


class PaymentCancelCallbackApi(APIView):
    @_abandon_schema("payments_cancel_callback", CANCELLED_AT_PROVIDER)
    def post(self, request, payment_id: int):
        return _abandon(request, payment_id, failed=False)

    @_abandon_schema("payments_cancel_callback_get", CANCELLED_AT_PROVIDER, deprecated=True)
    def get(self, request, payment_id: int):
        return _abandon(request, payment_id, failed=False)


class PaymentFailCallbackApi(APIView):
    @_abandon_schema("payments_fail_callback", FAILED_AT_PROVIDER)
    def post(self, request, payment_id: int):
        return _abandon(request, payment_id, failed=True)

    @_abandon_schema("payments_fail_callback_get", FAILED_AT_PROVIDER, deprecated=True)
    def get(self, request, payment_id: int):
        return _abandon(request, payment_id, failed=True)


class PaymentRefundApi(APIView):
    @extend_schema(
        operation_id="payments_refund",
        parameters=[PAYMENT_ID],
        request=None,
        responses={
            200: PaymentSerializer,
            **errors_of(
                ProviderNotAvailable,
                AlreadyRefunded,
                PaymentNotRefundable,
                RefundWindowPassed,
                RefundDeclined,
                *ORDER_TRANSITION_ERRORS,
                PaymentProviderUnavailable,
            ),
        },
        description="Refunds the whole payment and revokes the grants its order gave. Access is "
        "the union of the buyer's grants, so a course also held another way (bought on its own, "
        "in another bundle, granted by staff) stays open. Owners within REFUND_WINDOW_DAYS of "
        "payment; staff at any time.",
    )
    def post(self, request, payment_id: int):
        payment = refunds.payment_refund(actor=request.user, payment_id=payment_id)
        return Response(PaymentSerializer(payment).data)


class ReceiptListApi(ListAPIView):
    serializer_class = ReceiptSerializer
    queryset = Payment.objects.none()  # for the schema; the real one is the caller's

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.receipt_list(user=self.request.user)

    @extend_schema(operation_id="receipts_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ReceiptDetailApi(APIView):
    @extend_schema(
        operation_id="receipts_retrieve",
        parameters=[PAYMENT_ID],
        responses={200: ReceiptSerializer},
    )
    def get(self, request, payment_id: int):
        receipt = selectors.receipt_get(user=request.user, payment_id=payment_id)
        return Response(ReceiptSerializer(receipt).data)
