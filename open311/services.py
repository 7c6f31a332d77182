"""Writes for Open311: issuing client keys, and a posted request (the case and its token, in
one transaction)."""

import secrets
import uuid

from django.db import transaction

from . import adapter
from .models import Open311Client, PostedRequest
from .selectors import key_hash


def _new_key() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def client_create(*, name: str, county_code: str, active: bool = True) -> tuple[Open311Client, str]:
    """A client and its api_key, which is returned here once and never stored."""
    key = _new_key()
    client = Open311Client.objects.create(
        name=name,
        county_code=county_code,
        active=active,
        key_prefix=key[:8],
        key_hash=key_hash(key),
    )
    return client, key


@transaction.atomic
def client_rekey(*, client: Open311Client) -> str:
    """A new api_key for the client; the old one stops working at once."""
    key = _new_key()
    client.key_prefix, client.key_hash = key[:8], key_hash(key)
    client.save(update_fields=["key_prefix", "key_hash"])
    return key


@transaction.atomic
def request_submit(
    *, client, county, service_item, point, address, attributes, description, contact
) -> PostedRequest:
    """The case (through the adapter) and its PostedRequest row: both or neither."""
    service_request_id, token = adapter.submit_request(
        client=client,
        county=county,
        service_item=service_item,
        point=point,
        address=address,
        attributes=attributes,
        description=description,
        contact=contact,
    )
    return PostedRequest.objects.create(
        token=uuid.UUID(token) if token else uuid.uuid4(),
        client=client,
        county_code=county.code,
        service_request_id=str(service_request_id),
    )
