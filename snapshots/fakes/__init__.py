"""In-process stand-ins for SSB (PxWebApi v2, KLASS) and FHI Statistikk.

Repository tooling, not product code: the installed package does not ship them (the product's record/replay
transport, src/styringsdata/sources/transport.py, replays what was recorded from them). The snapshot builder
(snapshots/build.py), the national benchmark snapshot (bench/national_snapshot.py) and the tests record or
answer the pipeline's own clients with them. They live here, beside the snapshots they make, because nothing
outside tests/ may import from tests/.
"""
