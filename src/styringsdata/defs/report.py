"""The macro group's quality report as the last asset of a published run.

A run the gate holds back never reaches this asset (blocking checks skip everything downstream), so
the gate writes that report itself (src/styringsdata/defs/quality.py), and the CLI writes one for runs
that failed before the gate.
"""

import dagster as dg

from styringsdata.defs.quality import read_gate_result
from styringsdata.defs.keys import PUBLISHED, REPORT
from styringsdata.defs.resources import DUCKDB_WRITER_POOL, PipelineResource, run_started_at
from styringsdata.runs.build_state import mark_reported
from styringsdata.reporting.report import QualityReportFiles, RunInfo
from styringsdata.reporting.report_delivery import AFTER_PUBLICATION, deliver, record_delivery


@dg.asset(
    key=REPORT,
    group_name="publish",
    kinds={"html", "markdown"},
    deps=[PUBLISHED],
    pool=DUCKDB_WRITER_POOL,
    description=(
        "The reports after a publication, in data/reports/: the data team's quality report (what was fetched, "
        "what changed, checks with failing examples, coverage of the 88 indicators, late indicators and the home "
        "municipality's scorecard; HTML with charts embedded, and Markdown) and the ASSS macro group's Norwegian "
        "report (what needs attention per member, the financial key figures of all members, charts). Each is "
        "e-mailed to its own recipients when STYRINGSDATA_SMTP_HOST is set."
    ),
)
def quality_report(context: dg.AssetExecutionContext, pipeline: PipelineResource) -> dg.MaterializeResult:
    settings = pipeline.settings
    run = RunInfo(run_id=context.run_id, started_at=run_started_at(context.instance, context.run_id),
                  outcome="published", published_path=str(settings.warehouse), home_municipality=settings.home_municipality)
    delivery = deliver(settings.work_db, settings.reports_dir, run,
                       read_gate_result(settings.reports_dir, context.run_id), settings.mail, context.log,
                       audiences=AFTER_PUBLICATION, number_style=settings.number_format)
    mark_reported(settings.build_state_path, context.run_id)
    record_delivery(settings, delivery)  # each audience's report is a target of the publication too
    files = delivery.files
    assert isinstance(files, QualityReportFiles), "AFTER_PUBLICATION names the data team's quality report first"
    numbers = files.headline
    reports = delivery.reports or {}
    return dg.MaterializeResult(metadata={
        # the report's own numbers (src/styringsdata/reporting/report.py Headline): the CLI's summary reads them from here
        "new_vintages": numbers.new_vintages,
        "rows_fetched": numbers.rows_fetched,
        "changed_figures": numbers.changed_figures,
        "html": dg.MetadataValue.path(str(files.html)),
        "markdown": dg.MetadataValue.path(str(files.markdown)),
        "macro_group_html": dg.MetadataValue.path(str(reports["makrogruppen"].html)) if "makrogruppen" in reports
        else "not written",
        "mail": "skipped (no SMTP settings)" if delivery.mail_skipped else
                f"sent {len(delivery.mail_sent)}, failed {len(delivery.mail_failed)}",
        "mail_log": dg.MetadataValue.json(delivery.log_lines[1:]),
    })
