"""Errors the service layer raises; the API turns them into `{"error": {...}}` responses."""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """Base of every expected, client-caused error."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def headers(self) -> dict[str, str]:
        """Headers the answer carries (`WWW-Authenticate`, `Retry-After`)."""
        return {}


class NotFound(HubError):
    """The object does not exist, or is outside the caller's sites."""

    status_code = 404
    code = "not_found"


class Conflict(HubError):
    """The request clashes with the object's current state (e.g. a forbidden move)."""

    status_code = 409
    code = "conflict"


class InvalidInput(HubError):
    """The request is well-formed but its values are unacceptable."""

    status_code = 422
    code = "invalid"


class Unauthorized(HubError):
    """No valid credentials."""

    status_code = 401
    code = "unauthorized"

    def headers(self) -> dict[str, str]:
        """A 401 names the scheme it wants."""
        return {"WWW-Authenticate": "Bearer"}


class TooManyRequests(HubError):
    """Too many failed credential checks from the caller's address: wait and retry."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many failed sign-ins from this address: retry in {retry_after} s",
            details={"retry_after": retry_after},
        )
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        """When to come back."""
        return {"Retry-After": str(self.retry_after)}


class Forbidden(HubError):
    """Valid credentials, but the role may not do this."""

    status_code = 403
    code = "forbidden"


class TooLarge(HubError):
    """The request's content is larger than the hub accepts."""

    status_code = 413
    code = "too_large"
