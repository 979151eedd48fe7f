"""The Mailer port over SMTP (smtplib): one connection per message, STARTTLS and login when
configured. SMTP's own reply classes decide whether a failure is worth retrying: 4xx and
connection trouble are temporary, 5xx is final."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from bookkeeper.ports import MailRejected, MailUnavailable


class SmtpMailer:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout_s: float = 30.0,
    ):
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self.username, self.password, self.starttls = username, password, starttls

    def send(self, message: EmailMessage) -> None:
        where = f"{self.host}:{self.port}"
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise (MailUnavailable if all(400 <= code < 500 for code in codes) else MailRejected)(
                f"{where} refused every recipient: {error.recipients}"
            ) from None
        except smtplib.SMTPResponseException as error:
            kind = MailUnavailable if 400 <= error.smtp_code < 500 else MailRejected
            raise kind(f"{where} answered {error.smtp_code} {error.smtp_error!r}") from None
        except (OSError, smtplib.SMTPException) as error:  # refused, reset, timeout, disconnected
            raise MailUnavailable(f"cannot deliver through {where}: {error}") from None
        if refused:  # some recipients took it: what the others said is kept with the notice
            raise MailRejected(f"{where} refused some recipients: {refused}")
