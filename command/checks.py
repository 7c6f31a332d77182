"""A star formula in the settings that cannot score is said when the server starts (manage.py
check, migrate, runserver), not at the end of a quarter when the ratings are frozen."""

from django.conf import settings
from django.core import checks

from .ratings import FormulaError, formula_from


@checks.register()
def star_formula_check(app_configs=None, **kwargs):
    try:
        formula_from(getattr(settings, "WANGGE_STAR_FORMULA", None))
    except FormulaError as exc:
        return [checks.Error(f"WANGGE_STAR_FORMULA: {exc}", id="command.E001")]
    return []
