"""Consent, objection and withdrawal (G3, G4.4, G2.1): requests, answers, the ledger."""
