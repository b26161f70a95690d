"""Live streams of items: stream keys, publish callbacks, signed playback (rule G2)."""
