"""The PostgreSQL settings: refused by name when wrong, and the URL's password kept out of repr()."""

from __future__ import annotations

import pytest

from styringsdata.settings import Settings


@pytest.mark.parametrize("name, value", [
    ("STYRINGSDATA_POSTGRES_SCHEMA", "Styringsdata"),       # upper case would need quoting everywhere BI goes
    ("STYRINGSDATA_POSTGRES_SCHEMA", "a" * 51),             # "<schema>__incoming" must fit in 63 bytes
    ("STYRINGSDATA_POSTGRES_READER_ROLE", "bi; drop table x"),
    ("STYRINGSDATA_POSTGRES_SWAP_WAIT", "five minutes"),
    ("STYRINGSDATA_POSTGRES_SWAP_WAIT", "-1"),
])
def test_a_bad_value_is_refused_naming_the_variable(name, value):
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: value})


def test_the_url_stays_out_of_repr_and_unset_means_no_postgres_target():
    from styringsdata.defs.publish import postgres_target

    settings = Settings.from_env({"STYRINGSDATA_POSTGRES_URL": "postgresql://publisher:s3cr3t@db:5432/styringsdata"})
    assert "s3cr3t" not in repr(settings)
    target = postgres_target(settings)
    assert target.schema == "styringsdata" and target.reader_role == "styringsdata_reader"
    assert "s3cr3t" not in target.describe() and "***" in target.describe()
    assert "s3cr3t" not in repr(target)
    assert postgres_target(Settings.from_env({})) is None
