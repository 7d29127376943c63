class CheckoutError(Exception):
    """A donation could not be started; nothing was charged."""


class GatewayError(Exception):
    """Stripe could not be reached or refused a request (transient or config)."""


class EventNotReady(Exception):
    """An event refers to something not recorded yet (e.g. a refund of a charge
    whose gift has not arrived). The event waits and is re-run when it arrives.

    ``key`` names what it waits for: ``charge:ch_…`` or ``subscription:sub_…``.
    """

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class MalformedEvent(ValueError):
    """A correctly signed webhook body that is not a Stripe event Kyosei can
    store (the message says what is wrong); nothing is stored."""
