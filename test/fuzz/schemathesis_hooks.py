"""Schemathesis hooks of test/fuzz/openapi-conformance.test.ts (loaded through SCHEMATHESIS_HOOKS).

Generated ids find nothing, so without help most operations would only ever answer 404. The test
creates real data and names it in the environment; these hooks put it into the generated cases:
- a generated `saleId` or `reservationId` that is a well-formed UUID is swapped, in three cases
  of four (chosen by a hash of the value, so a seed replays), for a real one: the waiting-room sale
  on the challenge and queue routes, the sold-out waitlist sale on the waitlist routes, the plain
  sale elsewhere, and one of the fuzz shopper's reservations set aside for that operation; the fourth case and every malformed
  value go as generated, so the 404 and 400 answers are fuzzed too;
- a `cursor` of the order history (GET /v1/me/reservations) that matches the documented pattern
  is swapped, in three cases of four, for a real `nextCursor` of the fuzz shopper's; the rest go
  as generated (400);
- a queue join on the waiting-room sale gets a fresh challenge of the API's (difficulty 0, so any
  nonce solves it) in three cases of four;
- a payment webhook whose generated `X-Signature` is a valid (non-empty) string is signed with the API's webhook secret in three
  cases of four; the rest keep the generated header, or none (400 `bad-signature`).

One departure from docs/openapi.yaml, for the time budget only: a valid `units` above
FUZZ_MAX_UNITS is sent as FUZZ_MAX_UNITS (a sale of 1,000,000 units, the most the API accepts,
takes about a minute to insert on a 2-core machine). Invalid values are sent as generated.
"""

import hashlib
import hmac
import json
import os
import re
import time
import urllib.request

import requests
import schemathesis

FUZZ_MAX_UNITS = 1000
API_MAX_UNITS = 1_000_000
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

API_URL = os.environ["FUZZ_API_URL"]
SHOPPER_TOKEN = os.environ["FUZZ_SHOPPER_TOKEN"]
WEBHOOK_SECRET = os.environ["FUZZ_WEBHOOK_SECRET"]
PLAIN_SALE = os.environ["FUZZ_PLAIN_SALE"]
ROOM_SALE = os.environ["FUZZ_ROOM_SALE"]
WAITLIST_SALE = os.environ["FUZZ_WAITLIST_SALE"]
# Reservations of the fuzz shopper, a few per operation that moves one on (pay, cancel, support's
# cancel, extend) and a few that only reads see: one operation using its reservations up (paid,
# cancelled, extended to the limit) leaves the others theirs.
RESERVATIONS = json.loads(os.environ["FUZZ_RESERVATIONS"])
ORDER_CURSOR = os.environ["FUZZ_ORDER_CURSOR"]
CURSOR = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
RESERVATION_POOLS = {
    ("POST", "/v1/reservations/{reservationId}/payment"): "pay",
    ("POST", "/v1/reservations/{reservationId}/cancel"): "cancel",
    ("POST", "/v1/admin/reservations/{reservationId}/cancel"): "supportCancel",
    ("POST", "/v1/admin/reservations/{reservationId}/extend"): "extend",
}


def bucket(value) -> int:
    """A number 0..3 fixed by the value, so the same seed makes the same choices."""
    return hashlib.sha256(repr(value).encode()).digest()[0] % 4


def sale_for(path: str) -> str:
    if "/challenge" in path or "/queue" in path:
        return ROOM_SALE
    if "/waitlist" in path:
        return WAITLIST_SALE
    return PLAIN_SALE


def real_ids(case) -> None:
    params = case.path_parameters
    if not isinstance(params, dict):
        return
    sale = params.get("saleId")
    if isinstance(sale, str) and UUID.match(sale) and bucket(sale) != 0:
        params["saleId"] = sale_for(case.path)
    reservation = params.get("reservationId")
    if isinstance(reservation, str) and UUID.match(reservation) and bucket(reservation) != 0:
        pool = RESERVATIONS[RESERVATION_POOLS.get((case.method.upper(), case.path), "read")]
        params["reservationId"] = pool[hashlib.sha256(reservation.encode()).digest()[1] % len(pool)]


def fresh_challenge() -> str | None:
    request = urllib.request.Request(
        f"{API_URL}/v1/sales/{ROOM_SALE}/challenge", headers={"authorization": f"Bearer {SHOPPER_TOKEN}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response).get("challenge")
    except Exception:
        return None


class SignWebhook(requests.auth.AuthBase):
    """Signs the exact bytes requests sends (`X-Signature: t=…,v1=…`, psp/webhook-signature.ts)."""

    def __call__(self, prepared):
        body = prepared.body or b""
        if isinstance(body, str):
            body = body.encode()
        t = int(time.time())
        digest = hmac.new(WEBHOOK_SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        prepared.headers["X-Signature"] = f"t={t},v1={digest}"
        return prepared


@schemathesis.hook
def before_call(context, case, kwargs):
    real_ids(case)
    method = case.method.upper()
    if method == "POST" and case.path == "/v1/sales" and isinstance(case.body, dict):
        units = case.body.get("units")
        # 564295.0 is a valid `units` too: JSON has one number type, and the API checks integrality.
        whole = isinstance(units, (int, float)) and not isinstance(units, bool) and float(units).is_integer()
        if whole and FUZZ_MAX_UNITS < units <= API_MAX_UNITS:
            case.body["units"] = FUZZ_MAX_UNITS
    elif method == "GET" and case.path == "/v1/me/reservations" and isinstance(case.query, dict):
        cursor = case.query.get("cursor")
        if isinstance(cursor, str) and CURSOR.match(cursor) and bucket(cursor) != 0:
            case.query["cursor"] = ORDER_CURSOR
    elif method == "POST" and case.path == "/v1/sales/{saleId}/queue" and isinstance(case.body, dict):
        if case.path_parameters.get("saleId") == ROOM_SALE and bucket(case.body.get("nonce")) != 0:
            challenge = fresh_challenge()
            if challenge:
                case.body["challenge"] = challenge
    elif method == "POST" and case.path == "/v1/webhooks/payments" and bucket(case.body) != 0:
        # Only a case whose header is valid as documented (a non-empty string): one generated
        # without it, or empty, tests the refusal of a missing or malformed signature.
        header = next((v for k, v in (case.headers or {}).items() if k.lower() == "x-signature"), None)
        if isinstance(header, str) and header:
            kwargs["auth"] = SignWebhook()
