"""In-process stand-ins for SSB (PxWebApi v2, KLASS) and FHI Statistikk.

Test-only: they live under tests/ so the installed package does not ship them. The snapshot builder
(snapshots/build.py) and the national benchmark snapshot (bench/national_snapshot.py) record the
pipeline's own clients against them.
"""
