"""Deleting items on their date: the sweep (two-phase, resumable, one item per transaction),
the erasers it calls, date changes when facts change, graduation dates, and the queries the
privacy officer's desk and ``lti-tool audit verify`` read."""
