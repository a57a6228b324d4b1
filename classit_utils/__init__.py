"""classit: the tested core of the study."""
__version__ = "0.1.0"
