"""Recordings of items: resumable uploads (tus), probing and conversion, storage behind an
interface, who appears in them, and playback by short-lived signed links."""
