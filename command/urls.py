"""The command screen's API under /api/command/."""

urlpatterns: list = []
