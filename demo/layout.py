"""The smallest real territory (valid rectangles that tile exactly): the test suite's fixture
and the intake benchmark's crash round both build it. Pure data, no database.

county 411381: [112.0, 112.2] x [32.6, 32.7]
  township A 411381001 (west half) > village A1 411381001001 (all of A)
      grid A1a 411381001001001 (west) > micro-grids ...00101 (south), ...00102 (north)
      grid A1b 411381001001002 (east)
  township B 411381101 (east half) > village B1 411381101201 > grid B1a 411381101201001
Rows are (level, code, parent code, (min lon, min lat, max lon, max lat)), parents first.
"""

SMALL_TERRITORY = [
    ("county", "411381", "", (112.0, 32.6, 112.2, 32.7)),
    ("township", "411381001", "411381", (112.0, 32.6, 112.1, 32.7)),
    ("township", "411381101", "411381", (112.1, 32.6, 112.2, 32.7)),
    ("village", "411381001001", "411381001", (112.0, 32.6, 112.1, 32.7)),
    ("village", "411381101201", "411381101", (112.1, 32.6, 112.2, 32.7)),
    ("grid", "411381001001001", "411381001001", (112.0, 32.6, 112.05, 32.7)),
    ("grid", "411381001001002", "411381001001", (112.05, 32.6, 112.1, 32.7)),
    ("grid", "411381101201001", "411381101201", (112.1, 32.6, 112.2, 32.7)),
    ("microgrid", "41138100100100101", "411381001001001", (112.0, 32.6, 112.05, 32.65)),
    ("microgrid", "41138100100100102", "411381001001001", (112.0, 32.65, 112.05, 32.7)),
]
