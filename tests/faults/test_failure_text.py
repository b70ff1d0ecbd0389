"""The root cause out of Dagster's error chain, on one line (the end-to-end checks: test_failure_messages.py)."""

from __future__ import annotations

from dagster._utils.error import SerializableErrorInfo

from styringsdata.runs.failures import disk_full, fullest, root_cause


def error(cls_name: str, message: str, cause=None) -> SerializableErrorInfo:
    return SerializableErrorInfo(message=message, stack=[], cls_name=cls_name, cause=cause)


def test_the_first_error_that_is_not_dagsters_own_is_the_root_cause():
    miss = error("ReplayMiss", "styringsdata.sources.transport.ReplayMiss: no recorded response for GET https://x/y\n")
    wrapped = error("DagsterExecutionStepExecutionError",
                    'dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while executing op "a":',
                    cause=miss)
    assert root_cause(wrapped) == "ReplayMiss: no recorded response for GET https://x/y"
    failure = error("Failure", "dagster._core.definitions.events.Failure: the quality gate failed (fct_unique_grain)")
    assert root_cause(failure) == "the quality gate failed (fct_unique_grain)"


def test_dbt_errors_are_taken_from_after_dagster_dbts_pointer_to_the_log_without_colours():
    dbt = error("DagsterDbtCliRuntimeError",
                "dagster_dbt.core.dbt_cli_invocation.DagsterDbtCliRuntimeError: The dbt CLI process with command\n\n"
                "`dbt build`\n\nfailed with exit code `1`. Check the stdout in the Dagster compute logs ...\n\n"
                "Errors parsed from dbt logs:\n\n\x1b[31mFailure in model m\x1b[0m\n  Could not write file "
                '"/data/work.duckdb.wal": No space left on device')
    text = root_cause(dbt)
    assert text == 'dbt build failed: Failure in model m Could not write file "/data/work.duckdb.wal": No space left ' \
                   "on device"
    assert disk_full(text)


def test_a_full_disk_without_a_file_name_is_placed_on_the_fullest_file_system(tmp_path):
    text = fullest([tmp_path / "not" / "yet" / "there", tmp_path])
    assert text.startswith("the file system of ") and "KiB free" in text


def test_dbts_own_traceback_when_it_cannot_write_its_manifest_is_cut_to_its_last_line():
    """dbt ran out of room writing manifest.json (tests/faults/test_disk_full.py) and logged a Python traceback
    after its errors: the line keeps the errors and the traceback's last line, not the stack."""
    dbt = error("DagsterDbtCliRuntimeError",
                "dagster_dbt.core.dbt_cli_invocation.DagsterDbtCliRuntimeError: The dbt CLI process failed\n\n"
                "Errors parsed from dbt logs:\n\n285 of 332 ERROR creating sql table model marts.fct_indicator_values "
                "[ERROR in 0.17s] Encountered an error: [Errno 28] No space left on device\n"
                "Traceback (most recent call last):\n  File \"dbt_common/clients/system.py\", line 312, in write_json\n"
                "    json.dump(data, f)\nOSError: [Errno 28] No space left on device\n")
    text = root_cause(dbt)
    assert "Traceback" not in text and "File " not in text, text
    assert text.startswith("dbt build failed: 285 of 332 ERROR") and text.endswith(
        "OSError: [Errno 28] No space left on device"), text
    assert disk_full(text)
