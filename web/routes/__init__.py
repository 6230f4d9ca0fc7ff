"""Route modules, one per concept; each exposes ``routes``."""
