"""The sandbox provider's checkout page: the buyer approves, cancels or fails the payment here and
is sent back to our callback URLs, as a real gateway would do. 404 unless the sandbox is enabled."""

from urllib.parse import urlencode

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from payments.models import SandboxTransaction
from payments.providers import enabled_providers
from payments.providers.sandbox import sandbox_pg_token


@require_GET
def sandbox_checkout(request, transaction_id: str):
    if "sandbox" not in enabled_providers():
        raise Http404
    transaction = get_object_or_404(SandboxTransaction, transaction_id=transaction_id)
    action = request.GET.get("action")
    if transaction.state == SandboxTransaction.State.READY and action in (
        "approve",
        "cancel",
        "fail",
    ):
        if action == "approve":
            query = urlencode({"pg_token": sandbox_pg_token(transaction.transaction_id)})
            return HttpResponseRedirect(f"{transaction.approval_url}?{query}")
        return HttpResponseRedirect(getattr(transaction, f"{action}_url"))
    return render(request, "payments/sandbox_checkout.html", {"transaction": transaction})
