"""Refusals a request can get; each becomes a Reply with an HTTP-like status."""


class CatalogError(Exception):
    status = 400

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class NotFound(CatalogError):
    status = 404


class Invalid(CatalogError):
    status = 422


class Unavailable(CatalogError):
    status = 503
