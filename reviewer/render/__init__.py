"""Renderers: pure functions of a Review (or a list of them)."""
