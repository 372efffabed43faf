"""The radio's error types, one per kind of failure a caller handles differently."""


class HCITransportError(OSError):
    """The HCI transport (real controller or shared radio) could not be opened."""


class HCISpecError(ValueError):
    """A transport spec or radio address is malformed (names the bad value)."""
