"""reviewer: grade vendor proposals against a rubric, with citations checked against the document."""

__version__ = "0.1.0"
