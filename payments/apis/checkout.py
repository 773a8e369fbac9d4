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
RETURN_TRIP = (
    "The provider sends the buyer's browser to the frontend route "
    "`PAYMENT_CALLBACK_BASE_URL/{payment_id}/approve|cancel|fail/` (with `?pg_token=` on "
    "approve); that page calls this operation with the buyer's bearer token."
)
APPROVE_ERRORS = {
    400: error_response("`pg_token` missing."),
    402: error_response(
        "`approval_refused`: the provider refused this approval (e.g. a wrong `pg_token`) but "
        "the transaction may still be approved: the payment stays pending; finish at the "
        "provider and approve again (the fifth refusal fails it). `payment_declined`: the "
        "provider refused and the transaction is over; the payment failed, start a new one."
    ),
    409: error_response(
        f"{NOT_PENDING} `order_expired`: the payment was started after its order expired. "
        "`amount_mismatch`: the provider charged another amount than the order's; the payment "
        "failed and the charge was reversed."
    ),
    502: error_response(PROVIDER_DOWN),
}
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
            400: error_response(
                "`provider_not_available`, invalid input, or `not_for_sale`: a line of the order "
                "is no longer for sale (unpublished, free, emptied); `fields` names it "
                "(`lines[i].course` / `lines[i].curriculum`)."
            ),
            402: error_response("`payment_declined` by the provider."),
            404: error_response("`not_found`: no such order of yours."),
            409: error_response(
                "`order_not_payable`; `order_expired`: the order passed its `expires_at` and is "
                "now closed as expired; `price_changed`: a line's price changed since ordering, "
                '`fields.total` holds the new total and `fields["lines[i].price"]` each new '
                "price (KRW, as strings): place a new order; `idempotency_key_reused` or "
                "`idempotency_request_in_progress`."
            ),
            502: error_response(PROVIDER_DOWN),
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
        responses={200: PaymentSerializer, 409: error_response(NOT_PENDING)},
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
            409: error_response(
                "`already_refunded`, `payment_not_refundable`, `refund_window_passed` or "
                "`refund_declined`."
            ),
            502: error_response(PROVIDER_DOWN),
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
