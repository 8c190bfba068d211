"""Global feature extractors (seed 001): placeholder registry, filled in by the models work."""

EXTRACTORS = {}
