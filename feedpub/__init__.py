"""feedpub: publish plain-text news seeds as RSS 2.0, Atom and JSON feeds."""

__version__ = "0.1.0"
