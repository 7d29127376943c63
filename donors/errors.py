class DonorError(Exception):
    """A donor change broke a rule; nothing was written."""


class GiftError(Exception):
    """A gift or refund broke a rule; nothing was written."""
