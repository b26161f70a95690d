"""Rights of the people concerned (GDPR arts. 15 and 17: access and erasure requests, the
person export) and the privacy officer's desk (upcoming deletions, plans, withdrawals and
objections, pending consents, the audit log, the register of processing, evidence)."""
