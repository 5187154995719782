"""The "my work" page's model: what waits for a signed-in user, contributed by every package."""
