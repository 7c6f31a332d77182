from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who logs in. What they may see and do comes from their role assignments
    (territory.RoleAssignment), each attached to a node of the territory."""

    # The number residents call a grid chief or worker on: an office or duty phone, public
    # like the grid itself (it is shown in clear to the residents of the grid), unlike a
    # household's own phone, which is personal data and masked. One per person, not per
    # role assignment: a worker carries one duty phone for all their grids.
    work_phone = models.CharField(
        _("work phone"),
        max_length=20,
        blank=True,
        validators=[RegexValidator(r"^\+?[0-9][0-9 -]{2,18}$", _("digits, spaces and dashes"))],
    )

    # The language the user reads the site and their notifications in (notifications'
    # message_enqueue renders each message in it). Blank: the site's (Simplified Chinese). Set by
    # the language switcher while logged in, and restored at the next login on any device.
    language = models.CharField(
        _("language"),
        max_length=16,
        blank=True,
        choices=[("zh-hans", "简体中文"), ("en", "English")],
    )
