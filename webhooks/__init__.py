"""Payment gateway callbacks (PayPal, Yandex.Money/YooMoney, Braintree). Filled in by the payments issue."""
