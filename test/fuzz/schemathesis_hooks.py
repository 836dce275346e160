"""Schemathesis hooks of test/fuzz/openapi-conformance.test.ts (loaded through SCHEMATHESIS_HOOKS).

One departure from docs/openapi.yaml, for the time budget only: a valid `units` above
FUZZ_MAX_UNITS is sent as FUZZ_MAX_UNITS (a sale of 1,000,000 units, the most the API accepts,
takes about a minute to insert on the 2-core development box). Invalid values are sent as
generated, so the API's own limit is still fuzzed.
"""

import schemathesis

FUZZ_MAX_UNITS = 1000
API_MAX_UNITS = 1_000_000


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.method.upper() != "POST" or case.path != "/v1/sales" or not isinstance(case.body, dict):
        return
    units = case.body.get("units")
    # 564295.0 is a valid `units` too: JSON has one number type, and the API checks integrality.
    whole = isinstance(units, (int, float)) and not isinstance(units, bool) and float(units).is_integer()
    if whole and FUZZ_MAX_UNITS < units <= API_MAX_UNITS:
        case.body["units"] = FUZZ_MAX_UNITS
