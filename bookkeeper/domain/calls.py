"""A finished call as billing sees it, from whichever source reported it (Kazoo's CHANNEL_DESTROY
event, or a CDR document): who placed it, how long it was billed, which number rates it, and the
levels Kazoo's own jonny5 debits itself.

Only calls that crossed a carrier cost money per minute. One call is charged once per account it
is billed to, under an entry id made of the call id: a second report of the call (both sources, a
replay, the other report of the same leg) writes the same id and is "already done".

Which leg is billed. Kazoo reports every channel of a call, and an off-net call has two: the leg
between the customer's phone and the switch, and the leg between the switch and the carrier.
Only the carrier's leg is billed, so the two reports can never be two charges. Kazoo 4.x says
which leg faces a carrier in the channel variable `Resource-Type`:
- `offnet-termination` on the leg the switch originated to a carrier's gateway
  (stepswitch_resources.erl:722-728 in 4.3) is an outbound call, rated by the number called;
- `offnet-origination` on the leg a carrier brought in (stepswitch_inbound.erl:45,95-98, set on
  every inbound call from a carrier, whether or not its resource was recognised) is an inbound
  call, rated by the number it called in on.
Any other value is not a carrier's leg. `onnet-termination` is stepswitch's loopback to another
account of the same cluster, whose Resource-ID is that account, not a carrier
(stepswitch_outbound.erl:184-198, stepswitch_local_extension.erl:311-321); `onnet-origination`
its other half; `audio`/`sms` what kapps_call:set_resource_type/2 puts on originated calls.

No Resource-Type at all means a Kazoo older than 4.0, whose stepswitch set only Resource-ID, and
only on carrier legs (3.22 stepswitch_resources.erl:404-407 and stepswitch_inbound.erl:119-123,
with Authorizing-Type `resource`; 3.x has no on-net loopback, and 4.0 introduced the types:
4.0 stepswitch_resources.erl:621, stepswitch_inbound.erl:110-111): there a Resource-ID marks the
carrier leg, as before. The switch's direction must agree either way (FreeSWITCH's point of view:
`outbound` is a leg the switch originated, `inbound` one that reached it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from bookkeeper.domain.charges import month_prefix, slug
from bookkeeper.domain.errors import FieldError
from bookkeeper.domain.kazoo_names import GREGORIAN_UNIX_OFFSET, is_account_id

OUTBOUND, INBOUND = "outbound", "inbound"
OFFNET_TERMINATION, OFFNET_ORIGINATION = "offnet-termination", "offnet-origination"
ACCOUNT_LEVEL, RESELLER_LEVEL = "account", "reseller"
_WHOLE = re.compile(r"[0-9]{1,12}")
# Kazoo's spelling of the channel variables read here; CDRs store them lower-cased with "_".
CCV_NAMES = {
    name.lower().replace("-", "_"): name
    for name in (
        "Account-ID",
        "Resource-ID",
        "Resource-Type",
        "Authorizing-Type",
        "Reseller-ID",
        "Account-Billing",
        "Reseller-Billing",
        "Rate",
        "Surcharge",
        "Rate-NoCharge-Time",
        "Billing-Seconds-Offset",
    )
}


@dataclass(frozen=True)
class FinishedCall:
    account_id: str  # the account that placed (or, inbound, received) the call
    call_id: str
    billing_seconds: int
    number: str  # the digits the rate is found by: the number dialled out, or the number called in on
    direction: str  # outbound: the account called a carrier; inbound: a carrier's call to the account
    offnet: bool  # it went to or came from a carrier
    ended_gregorian: int
    caller: str = ""  # the calling number, for the calls report (and a carrier's caller patterns)
    jonny5_levels: tuple[str, ...] = ()  # ACCOUNT_LEVEL / RESELLER_LEVEL: where jonny5 debits it itself
    kazoo_reseller_id: str | None = None  # the reseller jonny5 debits at RESELLER_LEVEL, if the leg says

    def jonny5_payers(self, reseller_of_account: str) -> frozenset[str]:
        """The accounts jonny5 debits for this call itself. Its reseller is the leg's Reseller-ID,
        else the account's reseller (j5_request.erl:137-142). An account that is its own reseller
        is reconciled once, by the reseller's billing (j5_channel_destroy.erl:47-57,
        j5_request.erl:338-347)."""
        reseller = self.kazoo_reseller_id or reseller_of_account
        if reseller == self.account_id:
            return frozenset({self.account_id}) if RESELLER_LEVEL in self.jonny5_levels else frozenset()
        return frozenset({self.account_id} if ACCOUNT_LEVEL in self.jonny5_levels else set()) | (
            {reseller} if RESELLER_LEVEL in self.jonny5_levels else set()
        )


class CallRecordError(FieldError):
    """A call report that cannot be billed as it is; `field` names what is wrong (a channel
    variable by its normalised name, e.g. "resource_type": see channel_variables)."""


def call_entry_id(day: date, call_id: str) -> str:
    return f"{month_prefix(day)}-kazbill-call-{slug(call_id)[:120]}"


def dialled_digits(number: str | None) -> str:
    """The digits of an E.164 number as Kazoo writes it (+74951234567, 74951234567, sip user parts)."""
    return "".join(char for char in (number or "").split("@", 1)[0] if char.isdigit())


def channel_variables(ccv: Mapping) -> dict[str, object]:
    """Channel variables keyed the way CDRs store them (`Account-ID` and `account_id` alike)."""
    return {str(key).lower().replace("-", "_"): value for key, value in ccv.items()}


def billed_direction(
    switch_direction: str | None,
    resource_id: str | None,
    authorizing_type: str | None,
    resource_type: str | None = None,
) -> str | None:
    """OUTBOUND or INBOUND for the leg that faces a carrier, None for any other leg."""
    if resource_type is not None:  # Kazoo 4.x names the leg's kind: nothing else is asked
        if resource_type == OFFNET_TERMINATION and switch_direction == "outbound":
            return OUTBOUND
        if resource_type == OFFNET_ORIGINATION and switch_direction == "inbound":
            return INBOUND
        return None
    if switch_direction == "outbound" and resource_id:
        return OUTBOUND
    if switch_direction == "inbound" and (authorizing_type == "resource" or resource_id):
        return INBOUND
    return None


def jonny5_levels(variables: Mapping[str, object], billing_seconds: int) -> tuple[str, ...]:
    """The levels whose per-minute debit Kazoo's jonny5 writes itself, from the leg's channel
    variables (normalised names). jonny5 debits a level when its authorisation put that level on
    per-minute billing (Account-Billing / Reseller-Billing = "per_minute": j5_per_minute.erl:35-40,
    j5_request.erl:116-118,338-347, set on the leg by ecallmgr_fs_authz.erl:207-244) and the call
    costs something at the rate the leg carries (j5_per_minute.erl:42-48; the cost comes from the
    leg's Rate and Surcharge once the seconds left after Billing-Seconds-Offset exceed
    Rate-NoCharge-Time, kapps_call_util.erl:50-74). It writes that debit 1-3 s after the hang-up
    (j5_channel_destroy.erl:20), so Kazbill decides from the leg, not from finding the debit."""
    levels = tuple(
        level
        for level, name in ((ACCOUNT_LEVEL, "account_billing"), (RESELLER_LEVEL, "reseller_billing"))
        if variable_text(variables, name) == "per_minute"
    )
    if not levels:
        return ()
    seconds = billing_seconds - _number(variables, "billing_seconds_offset")
    if seconds <= 0 or seconds <= _number(variables, "rate_nocharge_time"):
        return ()
    return levels if _number(variables, "rate") > 0 or _number(variables, "surcharge") > 0 else ()


def rated_number(direction: str | None, callee: str | None, request: str | None) -> str:
    """Outbound: the number called (the callee, else the request's user part). Inbound: the
    number called in on (the request's user part, else the callee)."""
    first, second = (request, callee) if direction == INBOUND else (callee, request)
    return dialled_digits(first) or dialled_digits(second)


def call_from_leg(
    *,
    account_id: str,
    call_id: str,
    billing_seconds: int,
    switch_direction: str | None,
    resource_id: str | None,
    authorizing_type: str | None,
    callee: str | None,
    request: str | None,
    ended_gregorian: int,
    caller: str | None = None,
    resource_type: str | None = None,
    jonny5: tuple[str, ...] = (),
    kazoo_reseller_id: str | None = None,
) -> FinishedCall:
    direction = billed_direction(switch_direction, resource_id, authorizing_type, resource_type)
    return FinishedCall(
        account_id,
        call_id,
        billing_seconds,
        rated_number(direction, callee, request),
        direction or OUTBOUND,
        direction is not None,
        ended_gregorian,
        dialled_digits(caller),
        jonny5,
        kazoo_reseller_id,
    )


def call_from_cdr(doc: Mapping) -> FinishedCall | None:
    """A Kazoo CDR document (pvt_type "cdr" in an account's monthly database) as a finished call;
    None for a CDR with nothing to bill (unanswered, or no account on it). Channel variables are
    read in either spelling Kazoo stores them (`account_id` or `Account-ID`)."""
    call_id = doc.get("call_id")
    if not isinstance(call_id, str) or not call_id:
        raise CallRecordError("call_id", "a CDR needs its call id")
    seconds = _whole(doc.get("billing_seconds"), "billing_seconds")
    ccv = doc.get("custom_channel_vars") or {}
    if not isinstance(ccv, Mapping):
        raise CallRecordError("custom_channel_vars", "must be an object")
    variables = channel_variables(ccv)
    account_id = variables.get("account_id") or doc.get("pvt_account_id")
    if seconds == 0 or not account_id:
        return None
    if not isinstance(account_id, str):
        raise CallRecordError("custom_channel_vars.account_id", "must be a string")
    ended = _whole(doc.get("timestamp"), "timestamp")
    if ended < GREGORIAN_UNIX_OFFSET:
        raise CallRecordError("timestamp", f"not in Gregorian seconds: {ended}")
    try:
        resource_type = variable_text(variables, "resource_type")
        jonny5 = jonny5_levels(variables, seconds)
    except CallRecordError as error:
        raise CallRecordError(f"custom_channel_vars.{error.field}", error.reason) from None
    return call_from_leg(
        account_id=account_id,
        call_id=call_id,
        billing_seconds=seconds,
        switch_direction=_text(doc.get("call_direction")),
        resource_id=_text(variables.get("resource_id")),
        authorizing_type=_text(variables.get("authorizing_type")),
        callee=_text(doc.get("callee_id_number")),
        request=_text(doc.get("request")) or _text(doc.get("to")),
        ended_gregorian=ended,
        caller=_text(doc.get("caller_id_number")),
        resource_type=resource_type,
        jonny5=jonny5,
        kazoo_reseller_id=_account_id(variables.get("reseller_id")),
    )


def variable_text(variables: Mapping[str, object], name: str) -> str | None:
    """A channel variable billing decides by: absent (or empty), or a string; anything else is
    refused, since guessing could bill an on-net leg or a call jonny5 debits."""
    value = variables.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise CallRecordError(name, "must be a string")
    return value


def _number(variables: Mapping[str, object], name: str) -> Decimal:
    """A rating channel variable: units or seconds, sent as a number or a string of one; absent is 0."""
    value = variables.get(name)
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise CallRecordError(name, "must be a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise CallRecordError(name, f"must be a number, not {str(value)[:40]!r}") from None
    if not number.is_finite():
        raise CallRecordError(name, "must be a finite number")
    return number


def _whole(value: object, field: str) -> int:
    """Whole seconds, as Kazoo writes them: an integer, or a string of digits."""
    if isinstance(value, str) and _WHOLE.fullmatch(value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12:
        return value
    raise CallRecordError(field, "must be a whole, non-negative number of seconds")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _account_id(value: object) -> str | None:
    """Only where it decides nothing on its own (jonny5's reseller falls back to the account's)."""
    return value if isinstance(value, str) and is_account_id(value) else None
