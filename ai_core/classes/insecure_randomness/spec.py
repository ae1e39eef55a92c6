"""Insecure randomness (CWE-330, 338): predictable random values used as secrets.

`random` is a Mersenne Twister: 624 outputs reveal its state and every later value, and it is seeded
from the clock when nothing else is available; `uuid.uuid1()` is the time and the MAC address. Used
for a password reset code, a session id, an API token, an OTP, a salt or a nonce, such a value can be
guessed. Reported when the value is bound to or returned as a secret (names with token, secret,
password, key, otp, nonce, salt, session, reset, code...), or passed to `set_cookie` or the session; a
project helper returning such values (`random_string()`) bound to a secret elsewhere is reported at both ends.
Random values for simulations, shuffling, jitter or sampling are not reported.

Fix: use `secrets`: `secrets.token_urlsafe(32)`, `secrets.token_hex(16)`, `secrets.choice(alphabet)`,
`secrets.randbelow(10**6)`; `uuid.uuid4()` instead of `uuid1()`.
"""

from __future__ import annotations

from ai_core.analysis.specs.spec_types import ClassSpec
from ai_core.findings import VulnClass

WEAK_RANDOM: dict[str, int] = {
    **{f"random.{name}": 338 for name in ("random", "randint", "randrange", "choice", "choices", "sample",
                                          "getrandbits", "randbytes", "uniform", "shuffle")},
    **{f"random.Random.{name}": 338 for name in ("random", "randint", "randrange", "choice", "choices", "sample",
                                                 "getrandbits", "randbytes")},
    **{f"numpy.random.{name}": 338 for name in ("rand", "randint", "choice", "bytes", "random")},
    "uuid.uuid1": 330,
}
"""Predictable value sources: qualified call -> CWE."""

SPEC = ClassSpec(
    vuln_class=VulnClass.INSECURE_RANDOMNESS,
    tables={
        "weak_random": WEAK_RANDOM,
        "secret_names": r"(?i)(^|_)(token|secret|password|passwd|pwd|passphrase|otp|nonce|salt|csrf|pin|sid|"
                        r"signature|(api|secret|signing|private|encryption|access|auth|hmac|master|session)_?key|"
                        r"session_?(id|token)|(reset|verify|verification|confirm|confirmation|auth|otp|invite|sms|"
                        r"login|recovery|magic|activation)_?(code|link|hash|token))(_|$)",
        "not_secret_names": r"(?i)(_?(len|length|size|count|delay|timeout|index|idx|name|type|field|url|column|"
                            r"prefix|label|hint|expires?|expiry|ttl)$|^(is|has|num|n|max|min)_)",
        "cookie_calls": ("set_cookie", "set_signed_cookie"),
        "session_names": ("session", "request.session", "flask.session"),
    },
)
