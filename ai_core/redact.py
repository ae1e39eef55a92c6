"""Secrets found in code, kept out of coderev's own files: the journal and the feedback keep a mask instead.

A mask says how long the secret was and gives its SHA-256 (enough to recognise it, not to restore it; a weak
secret can still be guessed from its hash, so rotate it anyway).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence

from ai_core.findings import Finding, VulnClass

_STRING = re.compile(r"[rRbBuUfF]{0,2}('''|\"\"\"|'|\")(.*?)\1", re.DOTALL)
MIN_SECRET_CHARS = 4
"""Shorter string values of a secret finding are not masked (they would mask unrelated text)."""


def secret_values(findings: Iterable[Finding | None]) -> tuple[str, ...]:
    """The string values in the code of hardcoded-secret findings (the whole snippet when it has no literal)."""
    found: list[str] = []
    for finding in findings:
        if finding is None or finding.vuln_class is not VulnClass.HARDCODED_SECRET:
            continue
        values = [m.group(2) for m in _STRING.finditer(finding.snippet or "")]
        found.extend(v for v in values if len(v) >= MIN_SECRET_CHARS)
        if not values and len(finding.snippet or "") >= MIN_SECRET_CHARS:
            found.append(finding.snippet)
    return tuple(found)


def mask_secret(secret: str) -> str:
    """What coderev keeps of a secret: its length and SHA-256."""
    digest = hashlib.sha256(secret.encode("utf-8", errors="surrogatepass")).hexdigest()
    return f"<secret: {len(secret)} chars, sha256 {digest}>"


def mask_secrets(text: str, secrets: Sequence[str]) -> str:
    """`text` with every occurrence of each secret (longest first) replaced by its mask."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, mask_secret(secret))
    return text
