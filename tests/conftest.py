from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # snapshots/build.py is imported by tests as a module
    sys.path.insert(0, str(ROOT))
