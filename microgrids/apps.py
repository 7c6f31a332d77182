from django.apps import AppConfig


class MicrogridsConfig(AppConfig):
    """Re-dividing grids into micro-grids: the engine, proposals, services, API, planner page
    and batch jobs. Its models (MicroGridDivision, MicroGridJob) stay in territory.models under
    the `territory` label, so their tables and migrations do not move (docs/architecture.md)."""

    name = "microgrids"
    verbose_name = "Micro-grids"
