"""A message is poison at its own second failed hand-off: counted by the bridge, not read from
AMQP's redelivered flag."""

from actors.bridges.handoff_failures import HandOffFailures


def test_the_second_failure_of_the_same_message_makes_it_poison_and_forgets_it():
    failures = HandOffFailures()
    assert failures.failed("configuration.doc_edited.limits", b'{"ID":"limits"}') is False
    assert failures.failed("configuration.doc_edited.device", b'{"ID":"limits"}') is False  # another key
    assert failures.failed("configuration.doc_edited.limits", b'{"ID":"limits"}') is True
    assert failures.failed("configuration.doc_edited.limits", b'{"ID":"limits"}') is False  # a new copy, afresh


def test_a_success_in_between_starts_the_count_again():
    failures = HandOffFailures()
    failures.failed("k", b"body")
    failures.succeeded("k", b"body")
    assert failures.failed("k", b"body") is False


def test_only_the_newest_first_failures_are_remembered():
    failures = HandOffFailures(remembered=2)
    for body in (b"a", b"b", b"c"):
        failures.failed("k", body)
    assert failures.failed("k", b"a") is False  # forgotten: one more try
    assert failures.failed("k", b"c") is True
