"""Where and with what an audit ran: library versions, platform, CI run and git labels."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from bias_ledger._version import __version__

_LIBRARIES = ("pandas", "numpy", "pyarrow", "fairlearn", "scikit-learn", "blake3", "cryptography")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _installed(names: tuple[str, ...]) -> dict[str, str]:
    """The versions of ``names`` from the ``NAME-VERSION.dist-info`` directories on
    ``sys.path``, first found first, as ``importlib.metadata.version`` finds them; a name
    found no such way is left out (and asked of ``importlib.metadata``, whose import costs
    more than the whole scan)."""
    wanted = {_normal(name): name for name in names}
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            listing = os.listdir(entry or ".")
        except OSError:
            continue
        for item in listing:
            stem = item[: -len(".dist-info")]
            if not item.endswith(".dist-info") or stem.count("-") != 1:
                continue
            name, version = stem.split("-")
            original = wanted.get(_normal(name))
            if original is not None and original not in found:
                found[original] = version
        if len(found) == len(wanted):
            break
    return found


def environment() -> dict[str, str]:
    """Versions of bias-ledger, Python and the libraries that shape its results; no imports."""
    versions = {"bias_ledger": __version__, "python": platform.python_version()}
    installed = _installed(_LIBRARIES)
    for name in _LIBRARIES:
        if name in installed:
            versions[name.replace("-", "_")] = installed[name]
            continue
        from importlib import metadata

        try:
            versions[name.replace("-", "_")] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name.replace("-", "_")] = "not installed"
    versions["platform"] = platform.platform()
    versions["implementation"] = sys.implementation.name
    return versions


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = done.stdout.strip()
    return value if done.returncode == 0 and value else None


def ci_labels(env: Mapping[str, str] | None = None, *, cwd: Path | None = None) -> dict[str, str]:
    """Labels detected from common CI variables and from git, when present."""
    env = os.environ if env is None else env
    labels: dict[str, str] = {}
    if env.get("GITHUB_ACTIONS") == "true":
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        if env.get("GITHUB_REPOSITORY") and env.get("GITHUB_RUN_ID"):
            labels["ci_run_url"] = (
                f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
            )
        labels["ci_system"] = "github-actions"
        _copy(labels, env, git_commit="GITHUB_SHA", git_branch="GITHUB_REF_NAME")
    elif env.get("GITLAB_CI") == "true":
        labels["ci_system"] = "gitlab-ci"
        _copy(
            labels,
            env,
            ci_run_url="CI_JOB_URL",
            git_commit="CI_COMMIT_SHA",
            git_branch="CI_COMMIT_REF_NAME",
        )
    elif env.get("CIRCLECI") == "true":
        labels["ci_system"] = "circleci"
        _copy(
            labels,
            env,
            ci_run_url="CIRCLE_BUILD_URL",
            git_commit="CIRCLE_SHA1",
            git_branch="CIRCLE_BRANCH",
        )
    elif env.get("JENKINS_URL"):
        labels["ci_system"] = "jenkins"
        _copy(labels, env, ci_run_url="BUILD_URL", git_commit="GIT_COMMIT", git_branch="GIT_BRANCH")
    elif env.get("BUILDKITE") == "true":
        labels["ci_system"] = "buildkite"
        _copy(
            labels,
            env,
            ci_run_url="BUILDKITE_BUILD_URL",
            git_commit="BUILDKITE_COMMIT",
            git_branch="BUILDKITE_BRANCH",
        )
    where = cwd or Path.cwd()
    # One git process asks for what is missing (each process costs a few ms of a small audit).
    asks = {"git_commit": ["HEAD"], "git_branch": ["--abbrev-ref", "HEAD"]}
    wanted = [name for name in asks if name not in labels]
    args = ["rev-parse", *(arg for name in wanted for arg in asks[name])]
    found = _git(args, where) if wanted else None
    values = found.splitlines() if found else []
    if len(values) == len(wanted):
        labels.update(
            (name, value)
            for name, value in zip(wanted, values, strict=True)
            if value and not (name == "git_branch" and value == "HEAD")  # a detached HEAD
        )
    return labels


def _copy(labels: dict[str, str], env: Mapping[str, str], **names: str) -> None:
    for label, variable in names.items():
        if env.get(variable):
            labels[label] = env[variable]
