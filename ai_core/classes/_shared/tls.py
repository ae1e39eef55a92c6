"""TLS certificate verification switched back on (misconfiguration and data exposure report it)."""

from __future__ import annotations

from ai_core.classes._shared.edit_helpers import assignments_near, calls_in_finding, target_name
from ai_core.fixes.calls import keyword
from ai_core.fixes.context import Draft, FixContext, source_independent


@source_independent
def tls_verify(ctx: FixContext) -> Draft | None:
    """`verify=False` -> `verify=True`; unverified SSL contexts -> the default context."""
    for call in calls_in_finding(ctx):
        kw = keyword(call, "verify")
        value = kw.child_by_field_name("value") if kw is not None else None
        if value is not None and ctx.text(value) in {"False", "0", "None"}:
            return Draft("Verify TLS certificates (verify=True)", [ctx.replace(value, "True")])
        fn = call.child_by_field_name("function")
        if fn is not None and ctx.qualified(ctx.text(fn)) in {"ssl._create_unverified_context",
                                                              "ssl._create_stdlib_context"}:
            return Draft("Use the default (verifying) SSL context",
                         [ctx.replace(call, f"{ctx.ref('ssl', 'create_default_context')}()")])
        for name in ("cert_reqs", "ssl_cert_reqs"):
            kw = keyword(call, name)
            value = kw.child_by_field_name("value") if kw is not None else None
            if value is not None and "CERT_NONE" in ctx.text(value):
                return Draft("Require certificates", [ctx.replace(value, ctx.text(value).replace("CERT_NONE",
                                                                                                  "CERT_REQUIRED"))])
    for node in assignments_near(ctx):
        name = target_name(ctx, node)
        value = node.child_by_field_name("right")
        if value is None:
            continue
        if name == "verify" and ctx.text(value) == "False":
            return Draft("Verify TLS certificates", [ctx.replace(value, "True")])
        if name == "verify_mode" and "CERT_NONE" in ctx.text(value):
            return Draft("Require certificates", [ctx.replace(value, ctx.text(value).replace("CERT_NONE",
                                                                                              "CERT_REQUIRED"))])
        if name == "check_hostname" and ctx.text(value) == "False":
            return Draft("Check the certificate's host name", [ctx.replace(value, "True")])
    return None
