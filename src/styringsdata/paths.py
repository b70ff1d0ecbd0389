"""Where the checkout's own folders are: the one module every layer may import for them (it imports nothing)."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The dbt project: models, and the seeds product code also reads (the catalogue, the need areas). The one place
# that knows where it is; code reaches it through Settings or this constant, never by a path of its own.
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
