"""The one answer every entrance gives when the store (or a payment gateway) cannot decide now:
the crossbar API, the payments page and the payment hooks. 503 with a Retry-After, the same
seconds everywhere, so that a reseller's script, a customer's browser and a gateway each come
back later and none takes it for a refusal: nothing was written, and the same request, repeated
(with the same Idempotency-Key where it takes one), is answered as if it were the first.

Each entrance only dresses it in its own format (crossbar's envelope, an HTML page, PayPal's and
Braintree's JSON, YooMoney's XML); which errors mean "later" and for how long is decided here."""

from __future__ import annotations

from bookkeeper.ports import GatewayUnavailable, StoreError, StoreUnavailable

STATUS = 503
# How long a caller should wait: a busy SQLite file is held for seconds (a batch, a vacuum), and
# an unreachable CouchDB or gateway is not worth hammering.
RETRY_AFTER_S = 5
HEADERS = {"Retry-After": str(RETRY_AFTER_S)}
# The API and the payments page: what was asked may not be a write, so the words stay general.
MESSAGE = "the billing store is busy or unreachable; try again shortly"
MESSAGE_RU = "Биллинг временно недоступен; повторите попытку через несколько секунд"

# The API answers the store's other errors on their own (a Conflict is 409, a refused value 400):
# only an unreachable or locked store is "later" there.
FOR_THE_API = (StoreUnavailable,)
# A payment hook cannot be answered "conflict" or "invalid" for the store's sake: the gateway
# would give up on a payment. Any store error, or a gateway that did not answer, is "ask again".
FOR_A_PAYMENT_HOOK = (StoreError, GatewayUnavailable)
