"""The console's rate decks page: a reseller uploads a deck as a file (a deck with bad lines is
refused whole, each line and column named on the page), follows a large import, and looks up
what a number costs."""

from __future__ import annotations

import re

from tests.unit.crossbar_api import test_console_pages
from tests.unit.crossbar_api.test_console_pages import form_token, log_in

console = test_console_pages.console  # the fixture: a billed world and its API

BOUNDARY = "kazbill-test-boundary"


def multipart(fields: dict[str, str], csv: str) -> tuple[bytes, dict[str, str]]:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="deck.csv"\r\n'
        f"Content-Type: text/csv\r\n\r\n{csv}\r\n--{BOUNDARY}--\r\n"
    )
    return "".join(parts).encode(), {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def upload(client, cookie, reseller, deck, csv):
    page = client.simulate_get(f"/console/accounts/{reseller}/rate_decks", headers=cookie)
    assert page.status_code == 200, page.text[:500]
    body, headers = multipart({"form_token": form_token(page.text), "deck": deck}, csv)
    return client.simulate_post(
        f"/console/accounts/{reseller}/rate_decks?lang=en", body=body, headers={**cookie, **headers}
    )


def test_a_deck_uploaded_as_a_file_prices_a_number_looked_up_on_the_page(console):
    client, world, _ = console
    _, cookie = log_in(client)
    reseller = world.ids["reseller"]
    sent = upload(
        client,
        cookie,
        reseller,
        "retail",
        "prefix,rate_cost,rate_increment,rate_minimum\n7495,1.20,60,60\n7,3.00,6,30\n",
    )
    assert sent.status_code == 303 and "done=2" in sent.headers["location"]
    page = client.simulate_get(sent.headers["location"], headers=cookie)
    assert "Imported rates: 2" in page.text
    looked = client.simulate_get(
        f"/console/accounts/{reseller}/rate_decks",
        params={"deck": "retail", "number": "+74951234567", "seconds": "61"},
        headers=cookie,
    )
    table = re.search(r'<table id="rate">(.*?)</table>', looked.text, re.S).group(1)
    assert "7495" in table and "2.4" in table  # 61 s in whole minutes of 1.20: 2.40


def test_a_deck_with_bad_lines_is_refused_whole_with_each_line_and_column_named(console):
    client, world, _ = console
    _, cookie = log_in(client)
    reseller = world.ids["reseller"]
    csv = "prefix,rate_cost,rate_increment,rate_minimum\n7495,1.20,60,60\n74x,1.00,60,60\n7812,cheap,60,60\n"
    refused = upload(client, cookie, reseller, "retail", csv)
    assert refused.status_code == 400
    listed = re.search(r'<div class="error" id="refused">(.*?)</div>', refused.text, re.S).group(1)
    assert "line 3.prefix" in listed and "line 4.rate_cost" in listed
    looked = client.simulate_get(
        f"/console/accounts/{reseller}/rate_decks", params={"deck": "retail", "number": "74951234567"}, headers=cookie
    )
    assert 'id="lookup-error"' in looked.text  # nothing was imported


def test_a_large_deck_is_imported_by_the_service_and_the_page_follows_it(console):
    client, world, _ = console
    _, cookie = log_in(client)
    reseller = world.ids["reseller"]
    rows = "\n".join(f"7{n:06d},0.50,60,60" for n in range(20_001))
    sent = upload(client, cookie, reseller, "wholesale", "prefix,rate_cost,rate_increment,rate_minimum\n" + rows + "\n")
    assert sent.status_code == 303 and "job=" in sent.headers["location"]
    page = client.simulate_get(sent.headers["location"], headers=cookie)
    assert 'http-equiv="refresh"' in page.text and re.search(r'id="job">\s*Import: <strong>queued', page.text)


def test_an_account_that_bills_nobody_is_told_so_and_a_post_without_the_form_token_is_refused(console):
    client, world, _ = console
    _, own = log_in(client, "Customer Two", "admin-customer_two")
    refused = upload(
        client, own, world.ids["customer_two"], "retail", "prefix,rate_cost,rate_increment,rate_minimum\n7,1,60,60\n"
    )
    assert refused.status_code == 400 and "not a reseller" in refused.text
    _, cookie = log_in(client)
    body, headers = multipart({"deck": "retail"}, "prefix,rate_cost,rate_increment,rate_minimum\n7,1,60,60\n")
    sent = client.simulate_post(
        f"/console/accounts/{world.ids['reseller']}/rate_decks", body=body, headers={**cookie, **headers}
    )
    assert sent.status_code == 403
