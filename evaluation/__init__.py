"""evaluation domain package."""
