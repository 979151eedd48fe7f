"""The mailer: sends the notices the shards queued, with retry, one pass at a time.

It keeps nothing in memory: what to send, and how often it was tried, is in the store
(kazbill_notices), so a restarted mailer carries on where the dead one stopped. It looks at its
tick, when a batch queued notices, and when asked (MailNow).

Each pass first charges the auto top-ups that billing passes queued (kazbill_topups): like an
email, a card charge is a slow call to an outside service that must stay off the event path, and
its result is itself a notice, sent in the same pass. Then the outbound webhooks due
(kazbill_webhook_deliveries), for the same reason.
"""

from __future__ import annotations

import logging

from thespian.actors import ActorTypeDispatcher, WakeupMessage

from actors.messages import MailerStart, MailNow, MailPassDone, NoticesQueued
from bookkeeper.bootstrap import build_billing_ports, build_card_gateways, build_mailer, build_webhook_poster
from bookkeeper.ports import Mailer, WebhookPoster, gregorian_now
from bookkeeper.services.billing.account_pass import BillingPorts
from bookkeeper.services.hooks_out.delivery import deliver_due
from bookkeeper.services.mail.notices import MailReport, send_due_notices
from bookkeeper.services.payments.auto_topup import charge_due_topups
from bookkeeper.services.payments.card_payments import CardPorts

log = logging.getLogger("kazbill.mailer")
TICK = "tick"


class MailerActor(ActorTypeDispatcher):
    def __init__(self) -> None:
        super().__init__()
        self.ports: BillingPorts | None = None
        self.card_ports: CardPorts | None = None
        self.mailer: Mailer | None = None
        self.poster: WebhookPoster | None = None
        self.sender = "billing@localhost"
        self.public_url: str | None = None
        self.interval_s = 30.0

    def receiveMsg_MailerStart(self, start: MailerStart, sender) -> None:
        self.ports = build_billing_ports(start.settings, start.clock_file)
        self.card_ports = CardPorts(self.ports, build_card_gateways(start.settings))
        self.mailer = build_mailer(start.settings)
        self.poster = build_webhook_poster(start.settings)
        self.sender = start.settings.smtp_sender
        self.public_url = start.settings.public_url
        self.interval_s = start.interval_s
        self.wakeupAfter(0.1, payload=TICK)  # whatever was left queued by a predecessor

    def receiveMsg_WakeupMessage(self, wakeup: WakeupMessage, sender) -> None:
        if wakeup.payload == TICK:
            self._pass()
            self.wakeupAfter(self.interval_s, payload=TICK)

    def receiveMsg_NoticesQueued(self, poke: NoticesQueued, sender) -> None:
        self._pass()

    def receiveMsg_MailNow(self, request: MailNow, sender) -> None:
        report = self._pass()
        self.send(
            sender, MailPassDone(report.emailed, report.retrying, report.failed, report.no_recipients, report.skipped)
        )

    def _pass(self) -> MailReport:
        if self.ports is None or self.card_ports is None or self.mailer is None:
            return MailReport()  # not started yet: MailerStart sets all three
        now = gregorian_now(self.ports.clock)
        try:
            topups = charge_due_topups(self.card_ports, now)
            if topups.details:
                log.info("auto top-up pass: %s", "; ".join(topups.details))
        except Exception as error:  # noqa: BLE001 - the store is down: the next tick tries again
            log.warning("cannot charge auto top-ups now: %s", error)
        if self.poster is not None:
            try:
                hooks = deliver_due(self.ports.store, self.poster, now)
                if hooks.ids:
                    log.info(
                        "webhooks: %d delivered, %d to retry, %d failed", hooks.delivered, hooks.retrying, hooks.failed
                    )
            except Exception as error:  # noqa: BLE001 - the store is down: the next tick tries again
                log.warning("cannot deliver webhooks now: %s", error)
        try:
            report = send_due_notices(
                self.ports.store, self.mailer, sender=self.sender, now_gregorian=now, public_url=self.public_url
            )
        except Exception as error:  # noqa: BLE001 - the store is down: the next tick tries again
            log.warning("cannot send notices now: %s", error)
            return MailReport()
        if report != MailReport():
            log.info("mail pass: %s", report)
        return report
