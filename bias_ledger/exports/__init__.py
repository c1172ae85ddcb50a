"""Exports of audit records into other ecosystems' formats: in-toto/DSSE, CycloneDX."""
