"""Neither tests nor runs write into the repository: after the suite, `git status --porcelain` is what it was.

Named to be collected last (pytest runs files in order). Compared with the status at the start of the session,
not with an empty one, so that a developer's uncommitted edits do not fail it; on CI (a clean checkout) that is
an empty status.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import git_status

ROOT = Path(__file__).resolve().parents[1]


def test_the_suite_left_the_repository_as_it_found_it(status_at_start):
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    assert sorted(set(git_status()) - set(status_at_start)) == []
