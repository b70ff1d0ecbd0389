"""The few lines `styringsdata run` ends with: what changed, what the gate said, what was published, where to look.

Every number is read from where it was made, never counted again: the fetched vintages and changed figures from
the quality report's own metadata (the report states the same), the gate's verdict from the gate's result file,
the publication from the publish step's metadata.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from styringsdata.quality.gate import GateResult
from styringsdata.runs.progress import RunProgress, json_metadata

PUBLISHED = dg.AssetKey(["published", "warehouse"])
REPORT = dg.AssetKey(["reports", "quality_report"])


def gate_line(gate: GateResult | None, freshness_warnings: list[str]) -> str:
    if gate is None:
        return "gate: did not run (nothing was rebuilt)"
    verdict = "passed" if gate.passed else "FAILED, nothing published"
    parts = [f"gate: {verdict}; {sum(c.passed for c in gate.checks)} of {len(gate.checks)} rules passed"]
    if gate.errors:
        parts.append("failed: " + ", ".join(f"{c.name} ({c.failing_rows} rows)" for c in gate.errors))
    warnings = [f"{c.name} ({c.failing_rows} rows)" for c in gate.warnings] + freshness_warnings
    parts.append(f"{len(warnings)} warning(s)" + (": " + ", ".join(warnings) if warnings else ""))
    return "; ".join(parts)


def summary_lines(progress: RunProgress, gate: GateResult | None, *, warehouse: Path, log_path: Path,
                  published_at: str | None, failing_sources: int = 0) -> list[str]:
    report = progress.materializations.get(REPORT)
    publication = progress.materializations.get(PUBLISHED)
    lines = []
    if report is not None:
        lines.append(f"sources changed: {report['new_vintages']} new vintage(s), {report['rows_fetched']} rows "
                     f"({progress.data_requests} data request(s))")
        lines.append(f"figures changed since the previous vintage: {report['changed_figures']}")
    elif any(progress.stages[name].results for name in ("dbt", "gate")):
        lines.append(f"sources: {len(progress.changed_sources)} with new data, "
                     f"{progress.data_requests} data request(s)")
    else:
        lines.append(f"nothing new upstream: dbt, the gate and publish were skipped "
                     f"({progress.data_requests} data request(s))")
    lateness = [w.removeprefix("source_publishes_on_time on ") for w in progress.stages["gate"].warnings
                if w.startswith("source_publishes_on_time")]
    lines.append(gate_line(gate, [f"late: {', '.join(lateness)}"] if lateness else []))
    if publication is not None:
        tables = json_metadata(PUBLISHED, publication, "tables", dict)  # mart -> rows
        rows = sum(tables.values())
        failing = f" with {failing_sources} source(s) failing (their last good data, or status source_error)" \
            if failing_sources else ""
        lines.append(f"published{failing}: {publication.get('path', warehouse)} ({len(tables)} marts, {rows} rows; "
                     f"Parquet in {publication.get('parquet_dir', '')}; PostgreSQL: {publication.get('postgres')})")
    elif published_at is not None:
        lines.append(f"published: nothing new; {warehouse} is the publication of {published_at} UTC "
                     "(STYRINGSDATA_REBUILD=on rebuilds anyway)")
    else:
        lines.append(f"published: nothing; there is no publication at {warehouse} yet")
    if report is not None:
        lines.append(f"quality report: {report['html']}")
        lines += [f"  {line}" for line in json_metadata(REPORT, report, "mail_log", list)]
    lines.append(f"full log: {log_path}")
    return lines
