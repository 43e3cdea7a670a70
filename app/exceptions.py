"""What can go wrong while serving, in the service's own terms. The batcher, the registry and
the routes raise these; ``errors.py`` alone knows their HTTP status."""

from __future__ import annotations


class ServiceError(Exception):
    """Base class. ``retry_after`` (seconds) tells a caller when trying again may succeed."""

    retry_after: int | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthorized(ServiceError):
    """No API key was sent where one is needed."""


class Forbidden(ServiceError):
    """The key sent is not valid for this route."""


class NotFound(ServiceError):
    """No such route."""


class MethodNotAllowed(ServiceError):
    """The route exists, not with this method."""


class UnsupportedMediaType(ServiceError):
    """The body is not JSON."""


class InvalidInput(ServiceError):
    """The body does not fit the schema or a limit on text."""


class TooManyItems(ServiceError):
    """More items than one request may hold, or than the whole queue can ever hold."""


class BodyTooLarge(ServiceError):
    """The body is larger than the configured limit."""


class ReloadFailed(ServiceError):
    """A version could not be loaded, verified or warmed; the served one stays."""


class QueueFull(ServiceError):
    """The queue holds as many items as it may; the request can succeed later."""

    retry_after = 1


class ClientClosed(ServiceError):
    """The caller disconnected before its answer was ready."""


class InferenceFailed(ServiceError):
    """The forward pass of the batch failed; every caller in the batch gets this."""


class NotReady(ServiceError):
    """No model is loaded yet (or the last load failed)."""

    retry_after = 5


class ShuttingDown(ServiceError):
    """The server is draining and takes no new work."""

    retry_after = 1


class TimedOut(ServiceError):
    """An item waited in the queue longer than the request timeout."""
