class LedgerError(Exception):
    """A posting broke a rule of the books; nothing was written."""
