"""`styringsdata`: run the pipeline from a shell.

    styringsdata run            offline, from the bundled snapshots
    styringsdata run --live     against SSB and KLASS (fails fast without network)
    styringsdata run --record   live, and save every answer as a snapshot
    styringsdata registry check FILE [--show]
                                validate a registry file without loading it; --show prints the rows the
                                warehouse would hold. Exit 0 accepted, 1 rejected, 2 cannot check (no such
                                file, no run yet), 75 cannot read now (the file is still being written, or
                                is locked): try again. It never opens the work file, so it cannot disturb a run.
    styringsdata udir check FILE [--show]
                                the same for an export from Udir's statistikkbanken (docs/sources.md, "Udir")
    styringsdata report         rebuild the newest quality report from the work file (--send to e-mail it;
                                --audience makrogruppen for the macro group's report)
    styringsdata doctor [--live]   does the configuration match the sources? (snapshots, or the live APIs)
    styringsdata doctor --live --write [--yes] [--config-dir DIR]
                                and put the proposed codes into ssb_tables.yaml / fhi_tables.yaml, graded live
    styringsdata status         the publication ledger: each target (DuckDB file, Parquet, PostgreSQL, each
                                audience's report), the publication it holds, since when, and whether it
                                matches the approved one. Exit 0 when every target matches, 1 otherwise

Exit codes: 0 done; 1 the run failed and nothing new was published (or the report's mail was not sent; for
`registry check`: the file would be rejected); 2 a setting or argument is wrong, or there is nothing to report
on; 3 no network for live mode; 4 busy: another run holds the data directory (`run`), or a run is writing the
work file (`report`: try again when it has finished); 5 out of disk space (the message names the path);
6 published, but part failed: a source or a target (`run`: the summary names each failed source and what to
do, and each target that does not hold the publication; the next run tries them again).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path
from typing import Sequence

LIVE_HOSTS = ("data.ssb.no",)
EXIT_BUSY = 4
EXIT_DISK_FULL = 5
# Published, but part failed: a source (its last good data, or status source_error, are published) or a target
# (PostgreSQL unreachable, a report's mail not sent: marked behind in the ledger, caught up by the next run).
EXIT_PARTIAL = 6


def check_reachable(hosts: Sequence[str], timeout: float = 5.0) -> str | None:
    """None when every host answers on 443, else a message naming the first that does not."""
    for host in hosts:
        try:
            with socket.create_connection((host, 443), timeout=timeout):
                pass
        except OSError as exc:
            return (
                f"cannot reach {host}:443 ({exc.__class__.__name__}: {exc}). Live mode needs network access to "
                f"{', '.join(hosts)}. To run offline from the bundled snapshots: `styringsdata run` "
                "(or `make run`)."
            )
    return None


def _run(args: argparse.Namespace) -> int:
    chosen = {"STYRINGSDATA_SOURCE_MODE": "live" if args.live else "record"} if args.live or args.record else {}
    from styringsdata.settings import Settings

    settings = Settings.from_env({**os.environ, **chosen})
    mode = settings.source_mode.value
    if mode in ("live", "record"):
        problem = check_reachable(LIVE_HOSTS)
        if problem:
            print(f"styringsdata: {problem}", file=sys.stderr)
            return 3
    from styringsdata.runs import precheck  # imports no Dagster: a run with nothing new never starts it

    verdict = precheck.answer(settings, forced=args.force)
    print(verdict.line)
    if verdict.skip:
        return 0

    from styringsdata.definitions import defs
    from styringsdata.home import member_name
    from styringsdata.sources.ssb import load_table_specs

    print(f"styringsdata: source mode {mode}; home municipality {settings.home_municipality} "
          f"{member_name(settings.home_municipality)}; work file {settings.work_db}; "
          f"Dagster instance {settings.dagster_home}")
    if settings.chosen_ssb_tables is not None:  # a run of part of the configuration says so before it starts
        print(f"styringsdata: SSB tables {', '.join(settings.chosen_ssb_tables)} only, of "
              f"{len(load_table_specs().tables)} configured (STYRINGSDATA_SSB_TABLES={settings.ssb_tables}); "
              "the figures of the others are published as not_measured")
    from styringsdata.runs.lock import LockHeld, run_lock
    from styringsdata.runs.run_console import project_instance

    instance = project_instance(settings)  # the instance `make dev`'s UI reads: every run shows there
    try:
        # Two runs on one data directory would interleave on the work file and fail at random steps.
        with run_lock(settings.data_dir):
            code = _run_job(defs, instance, settings, verbose=getattr(args, "verbose", False))
            if code == 0:
                precheck.remember(settings, verdict.made_with)
            return code
    except LockHeld as exc:
        print(f"styringsdata: not started: {exc}", file=sys.stderr)
        return EXIT_BUSY


def _run_job(defs, instance, settings, verbose: bool = False) -> int:
    import dagster as dg

    from styringsdata.runs.failures import disk_full, disk_full_line, step_failures
    from styringsdata.runs.run_console import execute_with_progress

    run = execute_with_progress(defs, "full_refresh", instance, settings, verbose=verbose)
    result = run.result
    if not result.success:
        failures = step_failures(result.all_events)
        for line in failures:
            print(f"styringsdata: {line}", file=sys.stderr)
        published = any(e.asset_key == dg.AssetKey(["published", "warehouse"])
                        for e in result.get_asset_materialization_events())
        if published:
            print(f"styringsdata: run failed after publishing {settings.warehouse} (the publication is whole); "
                  "the next run finishes what is missing", file=sys.stderr)
        else:
            print("styringsdata: run failed; the published warehouse was not changed.", file=sys.stderr)
            report_failed_run(result.run_id, instance, settings, "; ".join(failures) or "the run failed")
        full = [line.split(" failed: ", 1)[-1] for line in failures if disk_full(line)]
        if full:
            cause = full[0] if "/" in full[0] else f"{full[0]} ({data_fullest(settings)})"
            print(f"styringsdata: {disk_full_line(cause)}", file=sys.stderr)
        print(f"styringsdata: full log: {run.log_path}", file=sys.stderr)
        return EXIT_DISK_FULL if full else 1
    failing = run.progress.source_failures()
    for failure in failing:
        print(f"styringsdata: source failed: {failure.line()}")
    every_target = summarise(run, settings, failing=len(failing))
    return EXIT_PARTIAL if failing or not every_target else 0


def report_failed_run(run_id: str, instance, settings, reason: str) -> None:
    """A run that failed before the gate still leaves a held-back report (the gate writes its own)."""
    from styringsdata.defs.quality import read_gate_result
    from styringsdata.defs.resources import run_started_at
    from styringsdata.reporting import report_delivery
    from styringsdata.runs.lock import run_lock_path
    from styringsdata.reporting.report import RunInfo

    run = RunInfo(run_id=run_id, started_at=run_started_at(instance, run_id), outcome="held_back",
                  reason=reason, home_municipality=settings.home_municipality)
    for line in report_delivery.report_failed_run(settings.work_db, settings.reports_dir, run,
                                                  read_gate_result(settings.reports_dir, run_id), settings.mail,
                                                  lock_path=run_lock_path(settings.data_dir),
                                                  number_style=settings.number_format):
        print(f"styringsdata: {line}", file=sys.stderr)


def _report(args: argparse.Namespace) -> int:
    """Rebuild the report of what the work file holds, labelled with the run that made it.

    Reads a private copy of the work file taken while no run writes, so a run is never blocked or failed
    by this (exit 4 while a run is writing). When the publication in the warehouse never got its report
    (its run was stopped first), that is the report written, not the previous run's again.
    """
    import dataclasses

    import duckdb

    from styringsdata.defs.quality import read_gate_result
    from styringsdata.runs import build_state, work_file
    from styringsdata.runs.lock import LockHeld, run_lock_path, shared_lock
    from styringsdata.reporting.report import RunInfo, latest_context
    from styringsdata.reporting.report_delivery import deliver
    from styringsdata.settings import Settings

    from styringsdata.home import HomeMunicipalityError, check_member

    settings = Settings.from_env()
    if args.member and args.audience != "makrogruppen":
        print("styringsdata: --member draws a member's tjenesteprofil in the macro group's report; give it with "
              "--audience makrogruppen", file=sys.stderr)
        return 2
    try:  # checked as the home member setting is, before the work file is read
        members = tuple(check_member(code, "--member", settings.landing_dir, settings.snapshot_dir)
                        for code in args.member)
    except HomeMunicipalityError as exc:
        print(f"styringsdata: {exc}", file=sys.stderr)
        return 2
    lock_path = run_lock_path(settings.data_dir)
    try:
        with work_file.readable(settings.work_db, lock_path, state_path=settings.build_state_path) as copy:
            state = build_state.parse(copy.state, settings.build_state_path)
            latest = latest_context(settings.reports_dir)
            if state is not None and not state.built and (latest is None or latest.run_id != state.run_id):
                print(f"styringsdata: the work file holds the unfinished build of run {state.run_id} (that run was "
                      "stopped or failed): its figures are no publication and there is nothing to report on until "
                      "the next run has finished it", file=sys.stderr)
                return 2
            unreported = state if build_state.unreported_publication(state) else None
            run = RunInfo(run_id=unreported.published_by, started_at=unreported.published_run_started_at,
                          outcome="published", published_path=str(settings.warehouse),
                          home_municipality=settings.home_municipality) if unreported is not None else latest
            if run is None:
                print(f"styringsdata: no report in {settings.reports_dir} yet; run `styringsdata run` first",
                      file=sys.stderr)
                return 2
            # The report is for today's home member, whatever member the run behind it was for.
            run = dataclasses.replace(run, home_municipality=settings.home_municipality)
            delivery = deliver(copy.work_db, settings.reports_dir, run,
                               read_gate_result(settings.reports_dir, run.run_id), settings.mail if args.send else None,
                               audiences=(args.audience,), number_style=settings.number_format,
                               profile_members=members)
    except LockHeld as exc:
        print(f"styringsdata: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except FileNotFoundError as exc:
        print(f"styringsdata: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    except duckdb.Error as exc:
        print(f"styringsdata: cannot read the work file {settings.work_db} ({' '.join(str(exc).split())}); the next "
              "run moves a damaged work file aside and rebuilds it from the landing zone", file=sys.stderr)
        return 2
    if unreported is not None:
        try:
            with shared_lock(lock_path, "record that the report was written", wait=10):
                build_state.mark_reported(settings.build_state_path, run.run_id)
        except LockHeld:
            pass  # a run started meanwhile: it writes this report once more, which does no harm
    for line in delivery.log_lines:
        print(f"styringsdata: {line}")
    return 0 if not delivery.mail_failed else 1


def summarise(run, settings, failing: int = 0) -> bool:
    """The run's summary (src/styringsdata/runs/run_summary.py): every number from where it was made. True when
    every target holds the approved publication."""
    import duckdb

    from styringsdata.defs.quality import read_gate_result
    from styringsdata.queries import one_value
    from styringsdata.runs.run_summary import summary_lines

    published_at = None
    if settings.warehouse.exists():
        con = duckdb.connect(str(settings.warehouse), read_only=True)
        try:
            published_at = one_value(con, "select max(published_at) from _publication")
        finally:
            con.close()
    lines = summary_lines(run.progress, read_gate_result(settings.reports_dir, run.result.run_id),
                          warehouse=settings.warehouse, log_path=run.log_path, published_at=published_at,
                          failing_sources=failing)
    targets, every_target = targets_lines(settings, run.result.run_id)
    for line in lines[:-1] + targets + lines[-1:]:
        print(f"styringsdata: {line}")
    return every_target


def targets_lines(settings, run_id: str) -> tuple[list[str], bool]:
    """What this run republished (one line each), then one line on whether every target matches the ledger;
    and whether every one does."""
    from styringsdata.publishing import ledger

    try:
        book = ledger.load(settings)
        checks = ledger.verify(settings, book)
    except ledger.LedgerError as exc:
        return [f"targets: {exc}"], False
    lines = [f"target: {line}" for line in ledger.repairs_of(settings, run_id)]
    approved = (book.get("approved") or {}).get("id")
    if ledger.current(checks):
        lines.append(f"targets: publication {approved} is current on every target "
                     f"({', '.join(c.name.replace('report:', 'report ') for c in checks)})")
    else:
        lines.append(f"targets: NOT every target holds publication {approved}: {ledger.summary(checks)} "
                     "(the next run tries again; `styringsdata status` shows the ledger)")
    return lines, ledger.current(checks)


def _status(args: argparse.Namespace) -> int:
    """`styringsdata status`: the ledger, each configured target verified as the pre-check verifies it."""
    from styringsdata.publishing import ledger
    from styringsdata.settings import Settings

    settings = Settings.from_env()
    try:
        book = ledger.load(settings)
        checks = ledger.verify(settings, book, refresh=False)  # a reader: the ledger is the runs' to write
    except ledger.LedgerError as exc:
        print(f"styringsdata: {exc}", file=sys.stderr)
        return 2
    approved = book.get("approved")
    print(f"publication ledger {ledger.ledger_path(settings)}")
    if not approved:
        print("approved publication: none yet (`styringsdata run` publishes the first)")
    else:
        print(f"approved publication: {approved['id']} (published {approved['published_at']} UTC by run "
              f"{approved['run_id']}; {len(approved['tables'])} marts, {sum(approved['tables'].values())} rows; "
              f"kept in {ledger.approved_file(settings)})")
    table = [("target", "publication", "recorded (UTC)", "matches")]
    for check in checks:
        entry = book["targets"].get(check.name) or {}
        delivery = f" [{entry['delivery']}]" if entry.get("delivery") else ""
        table.append((check.label + delivery, check.holds or "-", check.at or "-",
                      "yes" if check.matches else f"NO: {check.problem}"))
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])
    current = ledger.current(checks)
    print("every target holds the approved publication" if current else
          "not every target holds the approved publication: the next `styringsdata run` republishes it")
    return 0 if current else 1


REGISTRY_CANNOT_READ_NOW = 75  # sysexits' EX_TEMPFAIL: try again later; distinct from 1 = rejected


def _last_run_reference(settings):
    """The municipality codes the last run checked against (registry and Udir checks), or the exit code to
    return: 2 when no run has written them yet, 75 when they cannot be read now."""
    from styringsdata.sources.catalogue import load_catalogue
    from styringsdata.sources.registry import REFERENCE_SNAPSHOT, IndicatorRule, read_reference_snapshot

    snapshot = settings.data_dir / REFERENCE_SNAPSHOT
    rules = [IndicatorRule(i.indicator_id, i.route, i.unit) for i in load_catalogue(settings.catalogue_path)]
    try:
        return read_reference_snapshot(snapshot, rules, max_bytes=settings.registry_max_bytes)
    except FileNotFoundError:
        print(f"styringsdata: {snapshot} does not exist; run `styringsdata run` once so municipality codes from "
              "SSB and KLASS are known", file=sys.stderr)
        return 2
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"styringsdata: cannot read {snapshot} now ({exc.__class__.__name__}: {exc}); try again in a minute "
              "(every run rewrites it)", file=sys.stderr)
        return REGISTRY_CANNOT_READ_NOW


def _registry_check(args: argparse.Namespace) -> int:
    from pathlib import Path

    from styringsdata.sources.drop_zone import FileChanged
    from styringsdata.sources.registry import validate_file
    from styringsdata.settings import Settings

    settings = Settings.from_env()
    path = Path(args.file)
    if not path.is_file():
        print(f"styringsdata: {path}: no such file", file=sys.stderr)
        return 2
    # The municipality codes the last run checked against, from a file that run wrote: the work file
    # itself may be held by a run's writer, and a reader would block that writer.
    reference = _last_run_reference(settings)
    if isinstance(reference, int):
        return reference
    try:
        report, _ = validate_file(path, reference)  # an oversized file is refused without being read
    except FileChanged:
        print(f"styringsdata: cannot read {path} now: its size or modification time changed while it was read "
              "(is it still being copied or saved?); try again when it is complete", file=sys.stderr)
        return REGISTRY_CANNOT_READ_NOW
    except OSError as exc:
        print(f"styringsdata: cannot read {path} now ({exc.__class__.__name__}: {exc}); try again",
              file=sys.stderr)
        return REGISTRY_CANNOT_READ_NOW
    sys.stdout.write(report.text())
    if args.show and report.ok:
        sys.stdout.write(_registry_rows_table(report.rows))
    return 0 if report.ok else 1


def _udir_check(args: argparse.Namespace) -> int:
    """`udir check FILE`: a Udir export validated as a run would (src/styringsdata/sources/udir.py), never loaded; exits as
    `registry check` does, against the municipality codes the last run wrote (never the work file)."""
    from pathlib import Path

    from styringsdata.sources import udir
    from styringsdata.sources.file_contract import refused_for_size
    from styringsdata.sources.drop_zone import FileChanged, read_settled
    from styringsdata.settings import Settings

    settings = Settings.from_env()
    path = Path(args.file)
    if not path.is_file():
        print(f"styringsdata: {path}: no such file", file=sys.stderr)
        return 2
    reference = _last_run_reference(settings)
    if isinstance(reference, int):
        return reference
    report = refused_for_size(path.name, path.stat().st_size, settings.registry_max_bytes)
    if report is None:
        try:
            data, _ = read_settled(path)
        except (FileChanged, OSError) as exc:
            print(f"styringsdata: cannot read {path} now ({exc}); try again when it is complete", file=sys.stderr)
            return REGISTRY_CANNOT_READ_NOW
        report = udir.validate(data, path.name, reference)
    sys.stdout.write(report.text())
    if args.show and report.ok:
        table = [("indicator", "municipality", "reported as", "school year", "year", "value", "status")]
        table += [(r.indicator_id, r.municipality_code, r.reported_code, r.school_year, str(r.year),
                   "" if r.value is None else f"{r.value:g}", r.status) for r in report.rows]
        widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
        sys.stdout.write("".join("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() + "\n" for line in table))
    return 0 if report.ok else 1


DOCTOR_HOSTS = ("data.ssb.no", "statistikk-data.fhi.no", "www.miljodirektoratet.no")


def _doctor_transport(settings, live: bool):
    from styringsdata.sources.transport import SourceMode, Transport

    if live:
        return Transport(SourceMode.LIVE, rate_limits={"data.ssb.no": (settings.ssb_requests_per_minute, 60.0)},
                         timeout=settings.http_timeout)
    return Transport(SourceMode.REPLAY, settings.snapshot_dir)


def _doctor(args: argparse.Namespace) -> int:
    """One row per configured series against the sources' metadata (src/styringsdata/sources/doctor.py); exit 1 unless
    all ok. With --write (live only): the proposals, and those confirmed written into the configuration."""
    from styringsdata.sources.doctor import run_doctor
    from styringsdata.sources.transport import TransportError
    from styringsdata.settings import Settings

    if args.write and not args.live:
        print("styringsdata: doctor --write needs --live: a series is graded live only against the live sources",
              file=sys.stderr)
        return 2
    settings = Settings.from_env()
    if args.live:
        problem = check_reachable(DOCTOR_HOSTS)
        if problem:
            print(f"styringsdata: {problem}", file=sys.stderr)
            return 3
    transport = _doctor_transport(settings, args.live)
    print(f"styringsdata doctor: {'live sources' if args.live else f'snapshots in {settings.snapshot_dir}'}")
    try:
        report = run_doctor(transport, args.config_dir)
    except TransportError as exc:
        print(f"styringsdata: doctor could not finish: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(report.text())
    if args.write:
        return _doctor_write(report, args)
    return report.exit_code()


def _doctor_write(report, args: argparse.Namespace) -> int:
    """Show the proposals, write those confirmed (all with --yes), then exit as a fresh `doctor` would."""
    import datetime as dt

    from styringsdata.sources.doctor import DoctorWriteError, config_paths, format_proposals, propose, write_proposals

    proposals, left = propose(report)
    sys.stdout.write(format_proposals(proposals, left))
    chosen = []
    for p in proposals:
        what = (f"{p.source} {p.table} {p.series}: {p.variable} {p.old} -> {p.new}" if p.kind == "replace"
                else f"{p.source} {p.table} {p.series}: grade {p.grade} -> live")
        if args.yes:
            chosen.append(p)
            continue
        try:
            answer = input(f"write {what}? [y/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() in ("y", "yes", "j", "ja"):
            chosen.append(p)
    ssb_path, fhi_path = config_paths(args.config_dir)
    try:
        written = write_proposals(chosen, ssb_path, fhi_path, dt.date.today())
    except DoctorWriteError as exc:
        print(f"styringsdata: nothing written: {exc}", file=sys.stderr)
        return 1
    print(f"written: {len(written)} of {len(proposals)} proposal(s) into {ssb_path} and {fhi_path}"
          + ("; run `make snapshots` to re-record the bundled answers" if written else ""))
    replaced = {(p.source, p.table, p.series) for p in written if p.kind == "replace"}
    return 0 if all(r.verdict == "ok" or (r.source, r.table, r.series) in replaced for r in report.rows) else 1


def _registry_rows_table(rows) -> str:
    """The rows as the warehouse would hold them, aligned for reading in a terminal."""
    from styringsdata.sources.registry import show

    table = [("indicator", "municipality", "period", "value", "unit", "status")]
    table += [(r.indicator_id, r.municipality_code, str(r.period), "" if r.value is None else show(r.value),
               r.unit, r.status) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    return "".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() + "\n" for line in table)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="styringsdata", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run every source, dbt build and publish")
    live = run.add_mutually_exclusive_group()
    live.add_argument("--live", action="store_true", help="call the real sources instead of the snapshots")
    live.add_argument("--record", action="store_true", help="call the real sources and record snapshots")
    run.add_argument("--verbose", action="store_true",
                     help="show the run's full log (every Dagster event, dbt's output) as it is written")
    run.add_argument("--force", action="store_true",
                     help="start the whole job even when the pre-check finds nothing new upstream")
    run.set_defaults(handler=_run)
    registry = commands.add_parser("registry", help="the municipal registry drop zone")
    registry_commands = registry.add_subparsers(dest="registry_command", required=True)
    check = registry_commands.add_parser(
        "check", help="validate a registry file without loading it",
        description="Validate a registry file as a run would, without loading it. Exit 0 accepted, 1 rejected, "
        "2 cannot check (no such file, no run yet), 75 cannot read now (still being written, locked): try again.")
    check.add_argument("file")
    check.add_argument("--show", action="store_true",
                       help="print the normalised rows that would be loaded (indicator, municipality, period, "
                       "value, unit, status)")
    check.set_defaults(handler=_registry_check)
    udir_parser = commands.add_parser("udir", help="the Udir file route (exports from Udir's statistikkbanken)")
    udir_commands = udir_parser.add_subparsers(dest="udir_command", required=True)
    udir_check = udir_commands.add_parser(
        "check", help="validate a Udir export without loading it",
        description="Validate a Udir export as a run would, without loading it. Exit codes as `registry check`.")
    udir_check.add_argument("file")
    udir_check.add_argument("--show", action="store_true", help="print the rows that would be loaded")
    udir_check.set_defaults(handler=_udir_check)
    report = commands.add_parser("report", help="rebuild the newest quality report without rerunning the pipeline")
    report.add_argument("--send", action="store_true", help="also e-mail it (needs the SMTP settings)")
    report.add_argument("--audience", choices=("data-team", "makrogruppen"), default="data-team",
                        help="data-team: the operational quality report (default); makrogruppen: the ASSS macro "
                             "group's Norwegian report on every member")
    report.add_argument("--member", action="append", default=[], metavar="CODE",
                        help="with --audience makrogruppen: also draw this ASSS member's tjenesteprofil, after the "
                             "home member's (today's four-digit code; may be given more than once)")
    report.set_defaults(handler=_report)
    doctor = commands.add_parser("doctor", help="check every configured series against the sources' metadata")
    doctor.add_argument("--live", action="store_true", help="ask SSB, KLASS, FHI and Miljødirektoratet, not the snapshots")
    doctor.add_argument("--write", action="store_true",
                        help="with --live: propose codes for every series not ok and write the confirmed ones, graded live")
    doctor.add_argument("--yes", action="store_true", help="with --write: confirm every proposal")
    doctor.add_argument("--config-dir", type=Path, default=None,
                        help="read (and with --write, edit) ssb_tables.yaml and fhi_tables.yaml here")
    doctor.set_defaults(handler=_doctor)
    status = commands.add_parser("status", help="the publication ledger: what each target holds, and whether it "
                                 "matches the approved publication")
    status.set_defaults(handler=_status)
    args = parser.parse_args(argv)
    from styringsdata.runs.failures import disk_full_line, is_disk_full_error
    from styringsdata.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()  # every setting checked before anything starts
    except SettingsError as exc:
        print(f"styringsdata: {exc}", file=sys.stderr)
        return 2
    try:
        return args.handler(args)
    except Exception as exc:
        if not is_disk_full_error(exc):
            raise
        if isinstance(exc, OSError) and exc.filename:
            where = f"{exc.strerror}: {exc.filename}"
        else:
            # A stream's write (the run's log file, which is also the run's stdout and stderr) names no file.
            where = f"{' '.join(str(exc).split())} ({data_fullest(settings)})"
        print(f"styringsdata: {disk_full_line(where)}", file=sys.stderr)
        return EXIT_DISK_FULL


def data_fullest(settings) -> str:
    """Of the places a run writes, the one with the least room left (for a disk-full error that names no file)."""
    from styringsdata.runs.failures import fullest

    return fullest([settings.work_db, settings.warehouse, settings.reports_dir, settings.landing_dir,
                    settings.data_dir / "logs"])


if __name__ == "__main__":
    sys.exit(main())
