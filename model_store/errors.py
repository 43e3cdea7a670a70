"""Errors raised by the model store. Each names the version and what is wrong with it."""


class StoreError(Exception):
    """Base class: the store cannot give what was asked."""


class VersionNotFound(StoreError):
    pass


class InvalidVersionName(StoreError):
    pass


class ManifestError(StoreError):
    """The manifest is missing, unreadable, or from a schema this code does not know."""


class ChecksumMismatch(StoreError):
    """A file of the version does not match the sha256 its manifest recorded."""


class PromotionRefused(StoreError):
    """The version is worse than ``current`` on the pinned evaluation set."""
