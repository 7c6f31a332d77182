from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """A person who logs in. What they may see and do comes from their role assignments
    (territory.RoleAssignment), each attached to a node of the territory."""
