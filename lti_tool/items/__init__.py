"""Recordings and live streams of a course ("items"): set up through the wizard, decided by
the guideline pack, shown to the people they concern."""
