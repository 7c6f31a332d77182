"""Writing the demo territory into the database (used by `manage.py seed_demo`)."""

import datetime
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from faker import Faker
from shapely import wkb

from core import validity
from territory import privacy
from territory.boundary_io import read_boundary_file
from territory.codes import Level
from territory.models import HOUSEHOLD_FLAGS, Unit
from territory.services import boundaries_import, to_geos

from . import generator
from .departments import demo_departments_create
from .streets import demo_streets_create

DENGZHOU_FILE = (
    Path(settings.BASE_DIR) / "fixtures" / "boundaries" / "411381_dengzhou_gcj02.geojson"
)
DEMO_START = datetime.date(2024, 1, 1)  # start of that day (core.validity)

_COLUMNS = (
    "location",
    "address",
    "members",
    *HOUSEHOLD_FLAGS,
    "head_name",
    "head_phone",
    "id_number_hash",
    "id_number_masked",
    "territory_path",
    "created_at",
    "updated_at",
)


@transaction.atomic
def demo_seed(*, scale: str = "demo", seed: int = 411381, progress=None, counts=None) -> dict:
    """Seed the county, its subdivisions, households and departments; all or nothing. `counts` overrides the
    number of townships/villages/grids (tests use small ones)."""
    progress = progress or (lambda items, **_: items)
    features = read_boundary_file(DENGZHOU_FILE, crs="gcj02")
    boundaries_import(
        features=features,
        level=Level.COUNTY,
        crs="gcj02",
        code="411381",
        name="邓州市",
        valid_from=DEMO_START,
    )
    county = Unit.objects.current().get(code="411381")
    county.name_en = "Dengzhou"
    county.save(update_fields=["name_en"])
    territory = generator.build_territory(
        wkb.loads(bytes(county.boundary.wkb)),
        county_code=county.code,
        county_name=county.name,
        seed=seed,
        progress=lambda items: progress(items, desc="dividing"),
        **(counts or {}),
    )
    rows = [
        Unit(
            level=u.level,
            code=u.code,
            name=u.name,
            name_en=u.name_en,
            parent_code=u.parent_code,
            boundary=to_geos(u.boundary),
            valid_from=validity.start_of(DEMO_START),
        )
        for u in territory[1:]
    ]
    # Parents before children: the path trigger reads the parent's path.
    for level in Level.ORDER[2:]:
        Unit.objects.bulk_create([r for r in rows if r.level == level], batch_size=500)
    with connection.cursor() as cursor:
        # Statistics before the households arrive: without them the placement trigger's plan
        # scans every unit for every household (minutes instead of seconds).
        cursor.execute("ANALYZE territory_unit")

    grids = [u for u in territory if u.level == Level.GRID]
    faker = Faker("zh_CN")
    faker.seed_instance(seed)
    households = 0
    now = timezone.now()
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            f"COPY territory_household ({', '.join(_COLUMNS)}) FROM STDIN"
        ) as copy:
            batches = generator.build_households(
                grids,
                scale=scale,
                seed=seed,
                progress=lambda items: progress(items, desc="households"),
            )
            for _code, batch in batches:
                for h in batch:
                    id_number = _id_number(faker)
                    copy.write_row(
                        (
                            f"SRID=4326;POINT({h.lon} {h.lat})",
                            h.address,
                            h.members,
                            *(h.flags[f] for f in HOUSEHOLD_FLAGS),
                            faker.name(),
                            faker.phone_number(),
                            privacy.hash_id_number(id_number),
                            privacy.mask_id_number(id_number),
                            "",
                            now,
                            now,
                        )
                    )
                    households += 1
        cursor.execute("ANALYZE territory_household")
    basemap = demo_streets_create(
        county_code=county.code, urban_grid_codes=[g.code for g in grids if g.urban]
    )
    by_level = {level: sum(1 for u in territory if u.level == level) for level in Level.ORDER}
    departments = demo_departments_create()
    return {
        "households": households,
        **{k: v for k, v in by_level.items() if v},
        "departments": departments,
        "buildings": basemap["building"],
        "roads": basemap["road"],
    }


def _id_number(faker) -> str:
    born = faker.date_of_birth(minimum_age=18, maximum_age=90).strftime("%Y%m%d")
    first17 = f"411381{born}{faker.random_int(0, 999):03d}"
    return first17 + privacy.id_number_check_digit(first17)
