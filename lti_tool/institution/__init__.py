"""Institution settings per platform registration: the active guideline pack, the school-year
end and the privacy officer's contact, and the store of every pack ever used."""
