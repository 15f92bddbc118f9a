"""briefbot: tells each chat channel what is new in a fast-moving news story."""

__version__ = "0.1.0"
