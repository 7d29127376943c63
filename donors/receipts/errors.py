class ReceiptError(Exception):
    """A receipt could not be issued, reissued or voided; nothing was written."""
