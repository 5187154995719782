"""collusion domain package."""
