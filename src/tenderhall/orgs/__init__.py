"""Regions, centres, tenderers, agencies and bidder companies."""
