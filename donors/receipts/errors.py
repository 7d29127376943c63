class ReceiptError(Exception):
    """A receipt could not be issued, reissued or voided; nothing was written.

    The message is for staff and may name the donor; ``code`` says why in a
    word, for logs (``no_address``, ``already_receipted`` …).
    """

    def __init__(self, message: str = "", *, code: str = "refused") -> None:
        super().__init__(message)
        self.code = code
