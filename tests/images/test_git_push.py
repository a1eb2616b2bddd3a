"""Image updates committed and pushed over smart HTTP (``git http-backend`` with basic
auth), by the real ``git``: a plain push, a push that loses a race (rebased, both
commits kept, never forced), a race lost every time (bounded, the other commit
survives), a pull-request branch, and nothing to do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gitward.imageauto.git import PushRejectedError, Workspace
from gitward.imageauto.message import render
from gitward.imageauto.setters import Change, Latest
from gitward.model import RepoCredentials
from gitward.model.images import UpdateAutomation
from tests.source.gitfixtures import GitRepo, HttpGitServer, git

LATEST = {"apps:web": Latest("registry.local/team/web", "1.2.0")}
MARKED = 'image: registry.local/team/web:1.0.0 # {"$imagepolicy": "apps:web"}\n'
CREDENTIALS = RepoCredentials(username="bot", password="s3cret-token")


@pytest.fixture
def origin(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "git")
    repo.commit({"apps/web.yaml": "# the web app\n" + MARKED, "README": "hello\n"}, "start")
    return repo


@pytest.fixture
def server(tmp_path: Path) -> Iterator[HttpGitServer]:
    running = HttpGitServer(tmp_path / "git", "bot", "s3cret-token")
    yield running
    running.stop()


def automation(url: str, push: str = "main") -> UpdateAutomation:
    return UpdateAutomation(
        "apps", "auto", url, "main", push, path="apps",
        author_name="Image Bot", author_email="bot@example.com",
        message_template="{{ range .Updated.Images }}Bump {{ . }}{{ end }}",
    )  # fmt: skip


def message(changes: list[Change]) -> str:
    images = [LATEST[c.policy].ref for c in changes if c.policy in LATEST]
    return render("{{ range .Updated.Images }}Bump {{ . }}{{ end }}", "apps/auto", changes, images)


def remote(origin: GitRepo, *args: str) -> str:
    return git(origin.bare, *args)


def test_a_tag_bump_is_committed_and_pushed(
    origin: GitRepo, server: HttpGitServer, tmp_path: Path
) -> None:
    work = Workspace(tmp_path / "cache", automation(server.url(origin)), CREDENTIALS)

    pushed = work.update(LATEST, message)

    assert pushed is not None
    assert pushed.attempts == 1
    assert remote(origin, "rev-parse", "main") == pushed.sha
    assert remote(origin, "show", "main:apps/web.yaml") == (
        '# the web app\nimage: registry.local/team/web:1.2.0 # {"$imagepolicy": "apps:web"}'
    )
    assert remote(origin, "log", "-1", "--format=%an <%ae>|%s", "main") == (
        "Image Bot <bot@example.com>|Bump registry.local/team/web:1.2.0"
    )
    assert work.update(LATEST, message) is None  # already current: no empty commit
    assert remote(origin, "rev-parse", "main") == pushed.sha


def test_a_push_that_races_another_commit_is_rebased_and_keeps_both(
    origin: GitRepo, server: HttpGitServer, tmp_path: Path
) -> None:
    racing: list[str] = []

    class Raced(Workspace):
        def _commit(self, text: str) -> None:
            super()._commit(text)
            if not racing:  # someone pushes between our fetch and our push, once
                racing.append(origin.commit({"README": "edited by a person\n"}, "docs"))

    work = Raced(tmp_path / "cache", automation(server.url(origin)), CREDENTIALS)
    pushed = work.update(LATEST, message)

    assert pushed is not None
    assert pushed.attempts == 2
    assert remote(origin, "rev-parse", "main^") == racing[0]  # on top of it, not over it
    assert remote(origin, "show", "main:README") == "edited by a person"
    assert "web:1.2.0" in remote(origin, "show", "main:apps/web.yaml")


def test_a_race_lost_every_time_gives_up_and_never_forces(
    origin: GitRepo, server: HttpGitServer, tmp_path: Path
) -> None:
    racing: list[str] = []

    class AlwaysRaced(Workspace):
        def _commit(self, text: str) -> None:
            super()._commit(text)
            racing.append(origin.commit({"README": f"edit {len(racing)}\n"}, "docs"))

    work = AlwaysRaced(tmp_path / "cache", automation(server.url(origin)), CREDENTIALS)

    with pytest.raises(PushRejectedError, match="rejected: the branch moved"):
        work.update(LATEST, message, attempts=3)

    assert len(racing) == 3
    assert remote(origin, "rev-parse", "main") == racing[-1]  # the person's commit stays


def test_updates_for_a_pull_request_go_to_their_own_branch(
    origin: GitRepo, server: HttpGitServer, tmp_path: Path
) -> None:
    main = remote(origin, "rev-parse", "main")
    work = Workspace(
        tmp_path / "cache", automation(server.url(origin), "image-updates"), CREDENTIALS
    )

    first = work.update(LATEST, message)
    second = work.update({"apps:web": Latest("registry.local/team/web", "1.3.0")}, message)

    assert first is not None
    assert second is not None
    assert remote(origin, "rev-parse", "main") == main  # untouched
    assert remote(origin, "rev-parse", "image-updates^") == first.sha  # collects updates
    assert "web:1.3.0" in remote(origin, "show", "image-updates:apps/web.yaml")


def test_wrong_credentials_are_an_error_without_the_password(
    origin: GitRepo, server: HttpGitServer, tmp_path: Path
) -> None:
    wrong = RepoCredentials(username="bot", password="not-the-token")
    work = Workspace(tmp_path / "cache", automation(server.url(origin)), wrong)

    with pytest.raises(Exception, match="git fetch") as failed:
        work.update(LATEST, message)

    assert "not-the-token" not in str(failed.value)
