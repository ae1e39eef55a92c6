"""placeholder"""
from ai_core.analysis.specs.spec_types import ClassSpec
from ai_core.findings import VulnClass
SPEC = ClassSpec(vuln_class=VulnClass.CSRF)
