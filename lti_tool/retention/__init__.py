"""Retention: when recordings and streams are deleted or reviewed."""
