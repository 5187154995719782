"""TenderHall platform kernel."""
