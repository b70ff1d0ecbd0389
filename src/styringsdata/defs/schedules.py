"""Schedules that follow the ASSS year, in Norwegian time.

SSB publishes at 08:00 and refreshes metadata around 05:00 and 11:30; runs start at 09:00, between those.
KOSTRA: unrevised figures 15 March, revised 15 June. If a release is late, the SSB change sensor starts
the refresh when the tables' `updated` moves.
"""

import dagster as dg

from styringsdata.defs.jobs import full_refresh, kostra_refresh
from styringsdata.settings import Settings

TIMEZONE = "Europe/Oslo"


def build_schedules(settings: Settings) -> list[dg.ScheduleDefinition]:
    status = dg.DefaultScheduleStatus.RUNNING if settings.automation else dg.DefaultScheduleStatus.STOPPED
    return [
        dg.ScheduleDefinition(
            name="kostra_unrevised_release", job=kostra_refresh, cron_schedule="0 9 15 3 *",
            execution_timezone=TIMEZONE, default_status=status,
            description="15 March 09:00: KOSTRA's unrevised figures for last year.",
        ),
        dg.ScheduleDefinition(
            name="kostra_revised_release", job=kostra_refresh, cron_schedule="0 9 15 6 *",
            execution_timezone=TIMEZONE, default_status=status,
            description="15 June 09:00: KOSTRA's revised figures (every change is listed in the report).",
        ),
        dg.ScheduleDefinition(
            name="weekly_full_refresh", job=full_refresh, cron_schedule="15 9 * * 1",
            execution_timezone=TIMEZONE, default_status=status,
            description="Mondays 09:15: every source; unchanged sources cost one metadata call each.",
        ),
    ]
