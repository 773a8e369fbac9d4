from django.urls import path

from payments.apis import checkout, shop

urlpatterns = [
    path("cart/", shop.CartApi.as_view(), name="cart"),
    path("cart/items/", shop.CartItemCreateApi.as_view(), name="cart-items"),
    path("cart/items/<int:item_id>/", shop.CartItemDeleteApi.as_view(), name="cart-item-detail"),
    path("orders/", shop.OrderListCreateApi.as_view(), name="orders"),
    path("orders/<int:order_id>/", shop.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<int:order_id>/cancel/", shop.OrderCancelApi.as_view(), name="order-cancel"),
    path(
        "billing-addresses/",
        shop.BillingAddressListCreateApi.as_view(),
        name="billing-addresses",
    ),
    path(
        "billing-addresses/<int:address_id>/",
        shop.BillingAddressDetailApi.as_view(),
        name="billing-address-detail",
    ),
    path("payments/", checkout.PaymentCreateApi.as_view(), name="payments"),
    path("payments/<int:payment_id>/", checkout.PaymentDetailApi.as_view(), name="payment-detail"),
    path(
        "payments/<int:payment_id>/approve/",
        checkout.PaymentApproveApi.as_view(),
        name="payment-approve",
    ),
    path(
        "payments/<int:payment_id>/cancel/",
        checkout.PaymentCancelCallbackApi.as_view(),
        name="payment-cancel",
    ),
    path(
        "payments/<int:payment_id>/fail/",
        checkout.PaymentFailCallbackApi.as_view(),
        name="payment-fail",
    ),
    path(
        "payments/<int:payment_id>/refund/",
        checkout.PaymentRefundApi.as_view(),
        name="payment-refund",
    ),
    path("receipts/", checkout.ReceiptListApi.as_view(), name="receipts"),
    path("receipts/<int:payment_id>/", checkout.ReceiptDetailApi.as_view(), name="receipt-detail"),
]
