"""The domain's exception hierarchy. Shells map these to exit codes and HTTP statuses in one place."""


class ReviewerError(Exception):
    """Base of every error the reviewer raises on purpose: a machine-readable code and a human message."""

    code = "reviewer_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class BadInputError(ReviewerError):
    """The user's input cannot be used (a bad PDF, a bad rubric, a bad option)."""


class IngestError(BadInputError):
    """The PDF could not be turned into a Document. `code` says why."""


class RubricError(BadInputError):
    code = "invalid_rubric"


class ConfigurationError(BadInputError):
    """A setting the chosen path needs is missing or unusable (e.g. no API key)."""

    code = "configuration"
