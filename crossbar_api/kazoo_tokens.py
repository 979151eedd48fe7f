"""Kazoo's own crossbar tokens (what Monster UI holds after logging in to Kazoo 4.3), accepted by
the API and the console when Kazbill runs beside Kazoo, checked the way Kazoo checks them,
against the cluster's own documents.

What Kazoo 4.3 does (core/kazoo_auth/src, branch 4.3):
- A token is a JWT (kz_auth_jwt.erl:221-233): header `alg` (RS256, RS384 or RS512, :23-26),
  `typ`, `kid`; payload `account_id`, `owner_id` (a user login), `method`, `exp`, `iss`
  ("kazoo", kz_auth.erl:182-185) and `identity_sig` (kz_auth.erl:173-180). No `iat`.
- The key is the `kid` document of `system_auth` with the RSA private key as its
  `private_key.pem` attachment (kazoo_auth.hrl:39-40, kz_auth_keys.erl:243-301); the signature
  is checked with its public half.
- `exp - now > 0` (kz_auth_jwt.erl:121-127).
- `identity_sig` is base64url(HMAC-SHA256(key = the identity's `pvt_signature_secret` followed
  by system_config/auth `secret_for_user_signature`, message = the identity's id))
  (kz_auth_identity.erl:312-325, kz_auth_providers.erl:22-27); the identity is the `owner_id`
  user, else the account itself, read from the account's database (:78-96). Kazoo revokes
  tokens by changing those secrets (a password change does, by default).
- The account must not be a trial that has expired (cb_token_auth.erl:215-229).

Where Kazbill is stricter, on purpose: a token without `exp` or without `identity_sig` (Kazoo
lets both through: one never expires, the other is only made when signing failed) is refused;
a missing key document is refused, never created (Kazoo makes a new key under an unknown `kid`);
a `device_id` identity (no 4.3 login makes one) and an `as` (masquerading) claim are refused;
the system secret is read from the `default` section only (Kazoo first looks for a node's or a
zone's own). Then the caller is held to Kazbill's own rules (crossbar_api.sessions): a deleted
or disabled user, or a disabled account above, is refused too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import threading
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bookkeeper.domain.kazoo_names import ACCOUNTS_DB, account_db, from_gregorian_seconds, is_account_id
from bookkeeper.ports import DatabaseNotFound, DocumentStore, NotFound
from crossbar_api.auth import Caller, TokenClaims
from crossbar_api.sessions import RecentDocuments

AUTH_DB, KEY_ATTACHMENT = "system_auth", "private_key.pem"
CONFIG_DB, AUTH_CONFIG = "system_config", "auth"
HASHES: dict[str, hashes.HashAlgorithm] = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}
METHOD = "kazoo_jwt"


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class KazooTokens:
    """Verifies Kazoo tokens; the public keys parsed once per worker (by key id and attachment
    digest), the documents through the API's short-lived cache."""

    def __init__(self, store: DocumentStore, recent: RecentDocuments):
        self.store, self.recent = store, recent
        self._keys: dict[tuple[str, str], rsa.RSAPublicKey] = {}
        self._lock = threading.Lock()

    def claims(self, token: str, now: float) -> TokenClaims | None:
        """The caller, or None for anything that is not a valid Kazoo token now."""
        try:
            return self._claims(token, now)
        except (ValueError, TypeError, KeyError, binascii.Error, DatabaseNotFound, NotFound):
            return None

    def _claims(self, token: str, now: float) -> TokenClaims | None:
        header_part, payload_part, signature_part = token.split(".")
        header, payload = json.loads(_unb64(header_part)), json.loads(_unb64(payload_part))
        if not isinstance(header, dict) or not isinstance(payload, dict) or payload.get("iss", "kazoo") != "kazoo":
            return None
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in HASHES or not isinstance(kid, str) or not kid:
            return None
        key = self._public_key(kid, now)
        if key is None:
            return None
        try:
            signed = f"{header_part}.{payload_part}".encode()
            key.verify(_unb64(signature_part), signed, padding.PKCS1v15(), HASHES[algorithm])
        except InvalidSignature:
            return None
        expires = payload.get("exp")
        if isinstance(expires, bool) or not isinstance(expires, int) or expires - now <= 0:
            return None
        if "device_id" in payload or "as" in payload:
            return None
        return self._caller(payload, expires, token, now)

    def _public_key(self, kid: str, now: float) -> rsa.RSAPublicKey | None:
        doc = self.recent.get(self.store, AUTH_DB, kid, now)
        attachment = ((doc or {}).get("_attachments") or {}).get(KEY_ATTACHMENT)
        if doc is None or not isinstance(attachment, dict):
            return None
        cache_key = (kid, str(attachment.get("digest")))
        with self._lock:
            known = self._keys.get(cache_key)
        if known is not None:
            return known
        private = serialization.load_pem_private_key(self.store.get_attachment(AUTH_DB, kid, KEY_ATTACHMENT).data, None)
        if not isinstance(private, rsa.RSAPrivateKey):
            return None
        with self._lock:
            self._keys[cache_key] = private.public_key()
        return private.public_key()

    def _caller(self, payload: dict[str, Any], expires: int, token: str, now: float) -> TokenClaims | None:
        account_id, owner_id, signature = (
            payload.get("account_id"),
            payload.get("owner_id"),
            payload.get("identity_sig"),
        )
        if not isinstance(account_id, str) or not is_account_id(account_id) or not isinstance(signature, str):
            return None
        account = self.recent.get(self.store, ACCOUNTS_DB, account_id, now)
        if account is None or account.get("pvt_deleted") or _trial_over(account, now):
            return None
        identity = owner_id if owner_id is not None else account_id
        if not isinstance(identity, str) or not identity:
            return None
        holder = self.recent.get(self.store, account_db(account_id), identity, now)
        secret = (holder or {}).get("pvt_signature_secret")
        config = self.recent.get(self.store, CONFIG_DB, AUTH_CONFIG, now) or {}
        system_secret = (config.get("default") or {}).get("secret_for_user_signature")
        if holder is None or holder.get("pvt_deleted") or not isinstance(secret, str):
            return None
        if not isinstance(system_secret, str):
            return None
        expected = hmac.new((secret + system_secret).encode(), identity.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(_unb64(signature), expected):
            return None
        user = holder if owner_id is not None else None
        caller = Caller(
            account_id,
            owner_id,
            user is None or user.get("priv_level") == "admin",  # an account's own token is its API key's
            user is not None and user.get("pvt_superduper_admin") is True and not account.get("pvt_tree"),
            METHOD,
        )
        return TokenClaims(caller, "kazoo:" + hashlib.sha256(token.encode()).hexdigest()[:32], expires)


def _trial_over(account: dict[str, Any], now: float) -> bool:
    expires = account.get("pvt_trial_expires")
    return isinstance(expires, int) and from_gregorian_seconds(expires) < now


def looks_like_kazoo(token: str) -> bool:
    return token.count(".") == 2
