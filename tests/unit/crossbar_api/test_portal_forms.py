"""The payments page's forms are read with a bound on their fields: a form with more than any
page sends is 400 naming it, and counts as no login attempt."""

from __future__ import annotations

from tests.unit.crossbar_api.test_portal import log_in


def test_a_login_form_of_more_than_50_fields_is_400_naming_the_form_and_logs_nobody_in(api):
    client, _, _ = api
    body = "account_name=Customer+Two&username=admin-customer_two&password=secret&" + "&".join(
        f"f{n}=1" for n in range(60)
    )
    answer = client.simulate_post(
        "/portal/login", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code == 400 and "form" in answer.json["data"]
    assert "kazbill_portal" not in answer.cookies
    assert log_in(client).status_code == 303  # the same credentials, in a form of their own, still log in


def test_a_login_form_of_50_fields_is_read(api):
    client, _, _ = api
    body = "account_name=Customer+Two&username=admin-customer_two&password=secret&" + "&".join(
        f"f{n}=1" for n in range(47)
    )
    answer = client.simulate_post(
        "/portal/login", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code == 303
