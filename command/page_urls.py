"""The command screen's pages under /command/."""

urlpatterns: list = []
