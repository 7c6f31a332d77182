"""Addresses of messages are personal data: shown masked in the admin, the logs and any
listing (pure: no database)."""

from territory.privacy import mask_phone


def mask_address(address: str) -> str:
    """An e-mail address keeps its first character and its domain (z***@example.com: where it
    goes, not whose it is); anything else is a phone and is masked as households' phones are."""
    address = address or ""
    local, at, domain = address.rpartition("@")
    if at and local:
        return local[0] + "*" * max(3, len(local) - 1) + "@" + domain
    return mask_phone(address)
