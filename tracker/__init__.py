"""tracker: follow bills in Congress and local meetings, alert organizers when something moves."""

__version__ = "0.1.0"
