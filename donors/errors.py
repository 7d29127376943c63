class DonorError(Exception):
    """A donor change broke a rule; nothing was written."""

    #: Which of the donors given to ``donor_create_many`` broke it.
    index: int | None = None


class GiftError(Exception):
    """A gift or refund broke a rule; nothing was written."""

    #: Which of the items given to ``gift_items_check`` broke it.
    index: int | None = None
