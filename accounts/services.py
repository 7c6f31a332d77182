"""Writes on logins."""

from django.conf import settings
from django.db import transaction


@transaction.atomic
def user_language_set(*, user, language: str) -> bool:
    """Remember `user`'s language; an unknown one changes nothing. True when it was stored."""
    if language not in dict(settings.LANGUAGES) or user.language == language:
        return False
    user.language = language
    user.save(update_fields=["language"])
    return True
