"""bidding domain package."""
