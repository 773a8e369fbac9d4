"""Payments (start, provider callbacks, refund) and receipts."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import IDEMPOTENCY_HEADER, idempotent
from core.openapi import error_response
from core.serializers import MAX_ID
from payments import selectors
from payments.models import Payment, PaymentProviderName
from payments.serializers import PaymentSerializer, PaymentStartSerializer, ReceiptSerializer
from payments.services import payments as services
from payments.services import refunds

PAYMENT_ID = OpenApiParameter("payment_id", int, OpenApiParameter.PATH)
PROVIDER_DOWN = "`payment_provider_unavailable`: no answer in time; nothing changed, retry."
NOT_PENDING = "`payment_not_pending`: already cancelled, failed, or its order closed."


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
            400: error_response("`provider_not_available` and invalid input."),
            402: error_response("`payment_declined` by the provider."),
            404: error_response("`not_found`: no such order of yours."),
            409: error_response(
                "`order_not_payable`, `idempotency_key_reused` or "
                "`idempotency_request_in_progress`."
            ),
            502: error_response(PROVIDER_DOWN),
        },
        description="Registers a payment of the order's stored total with the provider; send the "
        "buyer to `redirect_url`. The amount is never taken from the client.",
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


class PaymentApproveApi(APIView):
    class InputSerializer(serializers.Serializer):
        pg_token = serializers.CharField(max_length=200)

    @extend_schema(
        operation_id="payments_approve",
        parameters=[
            PAYMENT_ID,
            OpenApiParameter(
                "pg_token",
                str,
                OpenApiParameter.QUERY,
                required=True,
                description="From the provider's redirect to the approval URL.",
            ),
        ],
        responses={
            200: PaymentSerializer,
            400: error_response("`pg_token` missing."),
            402: error_response("`payment_declined`: the provider refused; the payment failed."),
            409: error_response(
                f"{NOT_PENDING} `amount_mismatch`: the provider charged another amount than the "
                "order's; the payment failed and the charge was reversed."
            ),
            502: error_response(PROVIDER_DOWN),
        },
        description="Charges the amount stored on the order and unlocks its courses. Calling it "
        "again (or concurrently) returns the same paid payment; the provider charges once.",
    )
    def get(self, request, payment_id: int):
        serializer = self.InputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        payment = services.payment_approve(
            user=request.user,
            payment_id=payment_id,
            pg_token=serializer.validated_data["pg_token"],
        )
        return Response(PaymentSerializer(payment).data)


def _abandon(request, payment_id: int, *, failed: bool) -> Response:
    payment = services.payment_abandon(user=request.user, payment_id=payment_id, failed=failed)
    return Response(PaymentSerializer(payment).data)


class PaymentCancelCallbackApi(APIView):
    @extend_schema(
        operation_id="payments_cancel_callback",
        parameters=[PAYMENT_ID],
        responses={200: PaymentSerializer, 409: error_response(NOT_PENDING)},
        description="The buyer cancelled at the provider. The order stays payable.",
    )
    def get(self, request, payment_id: int):
        return _abandon(request, payment_id, failed=False)


class PaymentFailCallbackApi(APIView):
    @extend_schema(
        operation_id="payments_fail_callback",
        parameters=[PAYMENT_ID],
        responses={200: PaymentSerializer, 409: error_response(NOT_PENDING)},
        description="The provider reported a failure. The order stays payable.",
    )
    def get(self, request, payment_id: int):
        return _abandon(request, payment_id, failed=True)


class PaymentRefundApi(APIView):
    @extend_schema(
        operation_id="payments_refund",
        parameters=[PAYMENT_ID],
        request=None,
        responses={
            200: PaymentSerializer,
            409: error_response(
                "`already_refunded`, `payment_not_refundable`, `refund_window_passed` or "
                "`refund_declined`."
            ),
            502: error_response(PROVIDER_DOWN),
        },
        description="Refunds the whole payment and revokes the courses it unlocked. Owners within "
        "REFUND_WINDOW_DAYS of payment; staff at any time.",
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
