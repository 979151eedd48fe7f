"""The security suite, as one list: every test that sends an entrance what an attacker or a
broken peer would send, wherever it lives (next to the feature it guards). Each of these is
marked `security` at collection (tests/conftest.py), so the suite is one command:

    .venv/bin/python -m pytest -m security

and tests/security/test_suite_list.py keeps this list from naming a test that is gone.

By entrance: the crossbar API (bad and oversized bodies, Kazoo's ledger and login bodies, unknown
accounts, numbers, nesting, text and query values no parser or store can hold, a locked store, the
schemathesis run and its hostile-literal companion, the tenant matrix with parents that are not
resellers; tokens that outlive their user, password, key or account, logout; password guessing
from many addresses and behind a proxy; /metrics off the public port; slow clients on gunicorn),
the payment hooks (forged, tampered, replayed, misdirected, oversized; concurrent deliveries of
one payment), the cards API and Braintree's webhooks, AMQP messages
(malformed, contradicting their routing key, oversized, nested 1,200 levels deep, numbers and text
Python cannot hold, poison handed back twice; call legs and standing requests Kazbill cannot bill or
answer by; fuzzed bodies on every exchange), and documents from the change feed (uncountable
fields, oversized, unknown accounts, bad CDRs, documents Python cannot read or later readers could
not take, recorded and passed so the feed moves on; fuzzed pages)."""

from __future__ import annotations

SECURITY_TESTS: dict[str, tuple[str, ...]] = {
    # the crossbar API
    "tests/unit/crossbar_api/test_api.py": (
        "test_wrong_credentials_are_401_and_guessing_is_stopped_with_429",
        "test_a_bad_login_body_is_400_naming_the_field",
        "test_a_credit_with_an_idempotency_key_is_posted_once_and_the_repeat_returns_the_first_answer",
        "test_a_bad_credit_body_is_400_naming_the_field_and_changes_nothing",
        "test_a_huge_body_is_400_naming_its_size",
        "test_tokens_are_required_checked_and_expire",
        "test_unknown_accounts_and_paths_answer_in_crossbars_error_shape",
    ),
    "tests/unit/crossbar_api/test_gateway_config_api.py": (
        "test_bad_gateway_settings_are_400_naming_the_field_and_nothing_is_saved",
    ),
    "tests/unit/crossbar_api/test_onbills_api.py": (
        "test_the_account_cannot_issue_its_own_and_bad_requests_name_their_field",
    ),
    "tests/unit/crossbar_api/test_rate_decks_api.py": ("test_a_deck_with_bad_lines_is_refused_whole_naming_each_line",),
    "tests/unit/crossbar_api/test_plans_api.py": ("test_a_number_a_plan_cannot_store_exactly_is_refused_not_rounded",),
    "tests/unit/crossbar_api/test_kazoo_ledgers_api.py": (
        "test_a_bad_kazoo_ledger_body_is_400_naming_the_field_and_posts_nothing",
        "test_impact_reseller_is_refused_rather_than_silently_ignored",
    ),
    "tests/unit/crossbar_api/test_kazoo_logins.py": ("test_a_bad_way_to_name_the_account_is_400_naming_the_field",),
    "tests/unit/crossbar_api/test_service_plans_kazoo.py": (
        "test_a_bad_bulk_change_names_its_field_and_changes_nothing",
        "test_only_from_above_may_change_plans_in_bulk",
    ),
    "tests/unit/crossbar_api/test_token_revocation.py": ("*",),
    "tests/unit/crossbar_api/test_login_limits.py": ("*",),
    "tests/unit/crossbar_api/test_metrics_access.py": ("*",),
    "tests/integration/test_api_entrances_on_gunicorn.py": ("*",),
    "tests/unit/crossbar_api/test_bad_input_api.py": ("*",),
    "tests/unit/crossbar_api/test_kazoo_tokens.py": ("*",),
    "tests/unit/crossbar_api/test_revenue_api.py": (
        "test_a_bad_month_is_400_naming_it",
        "test_another_reseller_reads_none_of_it",
    ),
    "tests/unit/crossbar_api/test_csv_exports.py": (
        "test_transactions_as_csv_are_every_entry_with_a_formula_kept_as_text",
    ),
    "tests/integration/test_outbound_webhooks.py": (
        "test_a_bad_webhook_is_400_naming_the_field_and_nothing_is_saved",
        "test_nobody_sees_or_changes_another_resellers_webhooks",
        "test_the_test_button_delivers_now_and_a_private_address_is_refused_unless_allowed",
    ),
    "tests/unit/crossbar_api/test_customers_api.py": (
        "test_a_bad_query_is_400_naming_its_field",
        "test_no_caller_lists_an_account_outside_its_tree_csv_included",
        "test_one_accounts_summary_has_its_live_balance_and_a_new_account_is_named_not_billed",
        "test_the_csv_export_streams_every_row_and_a_formula_in_a_name_stays_text",
    ),
    "tests/unit/crossbar_api/test_edge_parsing.py": (
        "test_a_number_beyond_exact_arithmetic_is_refused_naming_its_field",
        "test_depth_is_counted_before_parsing_and_brackets_inside_strings_do_not_count",
        "test_a_body_that_is_not_utf8_json_is_refused_as_data",
        "test_any_bytes_are_parsed_or_refused_with_a_400_never_anything_else",
        "test_any_json_text_is_parsed_or_refused_with_a_400",
        "test_whole_numbers_are_ascii_digits_of_bounded_length",
        "test_a_parsing_error_that_slips_past_the_edge_is_a_400_not_a_crash",
        "test_store_unavailability_is_503_with_retry_after_in_one_place",
    ),
    "tests/security/test_api_schemathesis.py": ("*",),
    "tests/security/test_api_hostile_input.py": ("*",),
    "tests/security/test_tenant_isolation.py": ("*",),
    # payment hooks and cards
    "tests/integration/test_payment_hooks.py": (
        "test_a_paypal_payment_is_credited_once_and_every_delivery_is_recorded",
        "test_forged_and_tampered_ipns_credit_nothing",
        "test_verified_ipns_for_another_receiver_currency_or_account_are_refused",
        "test_a_disabled_gateway_or_unknown_reseller_refuses_without_asking_paypal",
        "test_oversized_and_malformed_bodies_are_refused_and_recorded",
        "test_forged_or_unacceptable_wallet_notifications_credit_nothing",
        "test_shop_requests_out_of_bounds_are_refused_in_the_protocols_codes",
        "test_a_shop_request_with_a_bad_md5_is_an_authorisation_error",
    ),
    "tests/integration/test_payment_hooks_properties.py": ("*",),
    "tests/integration/test_hooks_on_gunicorn.py": ("test_ten_concurrent_deliveries_of_one_payment_credit_it_once",),
    "tests/integration/test_braintree.py": (
        "test_bad_card_requests_are_refused_with_the_field_and_charge_nothing",
        "test_a_card_of_another_account_cannot_be_charged_or_deleted",
        "test_forged_or_foreign_braintree_webhooks_move_nothing",
    ),
    "tests/integration/test_payment_hooks_bad_input.py": ("*",),
    "tests/security/test_hook_fuzz.py": ("*",),
    "tests/unit/bookkeeper/test_hook_refusal_budget.py": ("*",),
    "tests/unit/bookkeeper/domain/test_braintree_webhook_form.py": (
        "test_a_malformed_signature_or_payload_is_refused_naming_its_field",
    ),
    "tests/integration/test_idempotency_keys.py": (
        "test_four_keys_the_slug_made_one_are_four_credits_and_each_replay_posts_nothing",
        "test_a_payment_posted_under_its_old_slug_id_is_still_a_replay_and_a_key_sharing_that_slug_is_not",
        "test_a_key_whose_id_an_old_slug_holds_for_another_key_gets_an_id_of_its_own",
    ),
    "tests/unit/crossbar_api/test_idempotency_keys_api.py": ("*",),
    "tests/unit/crossbar_api/test_portal.py": (
        "test_guesses_through_the_page_count_against_the_account_from_any_address",
        "test_logging_out_of_the_page_ends_the_session_token_everywhere",
        "test_a_proforma_past_the_accounts_limit_comes_back_as_a_message_and_nothing_is_numbered",
    ),
    "tests/unit/crossbar_api/test_portal_forms.py": (
        "test_a_login_form_of_more_than_50_fields_is_400_naming_the_form_and_logs_nobody_in",
    ),
    # AMQP
    "tests/integration/test_amqp_config_bridge.py": (
        "test_a_malformed_message_is_stored_with_its_reason_and_acknowledged",
        "test_an_oversized_message_is_stored_cut_short_and_acknowledged_unparsed",
        "test_a_change_whose_hand_off_fails_twice_is_stored_as_poison_not_retried_forever",
    ),
    "tests/unit/actors/test_kazoo_messages.py": (
        "test_a_body_that_is_not_a_json_object_is_rejected",
        "test_a_missing_or_empty_required_header_is_rejected_naming_it",
        "test_a_body_that_contradicts_its_routing_key_is_rejected_as_inconsistent",
        "test_a_billable_type_outside_an_account_database_is_rejected",
        "test_an_account_document_whose_account_cannot_be_told_is_rejected",
        "test_a_routing_key_of_the_wrong_shape_is_rejected",
        "test_a_soft_delete_flag_that_is_not_a_boolean_is_rejected",
        "test_a_rejected_payload_is_kept_as_text_cut_at_64_kib",
        "test_an_answered_call_without_an_account_is_rejected",
        "test_billing_seconds_that_are_not_a_whole_non_negative_number_are_rejected",
        "test_a_timestamp_in_unix_seconds_is_rejected_rather_than_billed_in_year_54",
        "test_a_call_event_without_its_call_id_or_with_another_one_is_rejected",
        "test_a_routing_key_that_is_not_a_call_event_is_rejected",
    ),
    "tests/unit/actors/test_kazoo_interop_messages.py": (
        "test_a_resource_type_that_is_not_a_string_is_rejected_naming_it",
        "test_a_leg_that_cannot_tell_whether_jonny5_debits_it_is_rejected_naming_the_variable",
        "test_a_services_change_that_names_no_account_or_contradicts_itself_is_rejected",
        "test_a_standing_request_that_cannot_be_answered_is_rejected_naming_the_field",
    ),
    "tests/unit/actors/test_standing_answers.py": (
        "test_an_unknown_account_or_an_unreadable_standing_is_an_error_not_a_guess",
        "test_a_malformed_standing_request_is_stored_and_acked_without_an_answer",
    ),
    "tests/integration/test_kazoo_amqp_interop.py": (
        "test_only_carrier_legs_are_charged_once_and_never_a_call_jonny5_debits",
        "test_a_plan_assigned_in_kazoo_is_billed_at_once_and_standing_requests_are_answered",
    ),
    # documents from the change feed
    "tests/security/test_feed_documents.py": ("*",),
    # one poison input must not stop billing for everyone (issue 20): documents Python cannot read
    # or bill by on the feed, and unparseable bodies on every exchange, recorded once and passed;
    # Hypothesis fuzzing of the exchanges' parsers and of the feed's page sorting
    "tests/integration/test_poison_entrances.py": ("*",),
    "tests/unit/actors/test_feed_pages.py": ("*",),
    "tests/unit/actors/test_amqp_poison.py": ("*",),
    "tests/security/test_suite_list.py": ("*",),
    "tests/integration/test_billing_bad_input.py": (
        "test_a_document_that_cannot_be_billed_by_is_refused_recorded_and_charges_nothing",
    ),
    "tests/unit/actors/test_couch_changes.py": (
        "test_the_cdrs_of_carrier_legs_are_handed_off_as_calls_once_and_a_bad_cdr_is_recorded",
    ),
    "tests/unit/bookkeeper/domain/test_calls.py": ("test_a_cdr_that_cannot_be_billed_as_it_is_names_its_field",),
    "tests/unit/actors/test_actor_wiring.py": ("test_an_unknown_account_is_recorded_not_retried",),
    # what a reseller or a customer can make cost (issue 20): a deck replaced half way, a template
    # that never ends on real data, a customer issuing documents without limit
    "tests/security/test_deck_replacement.py": ("*",),
    "tests/security/test_template_bounds.py": ("*",),
    "tests/security/test_customer_limits.py": ("*",),
    # a poison document, a hook flood and a killed deck import in one simulated week on CouchDB
    "tests/reliability/test_hostile_week.py": ("*",),
}


def is_security_test(path: str, name: str) -> bool:
    """`path` relative to the project, `name` the test function's name (without parameters)."""
    listed = SECURITY_TESTS.get(path, ())
    return "*" in listed or name in listed
