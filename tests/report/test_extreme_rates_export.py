"""An audit in which a group is predicted perfectly (rates of exactly 0 and 1, and Wilson
bounds at 0 and 1) exports with its report charts: its error bars used to be refused."""

from __future__ import annotations

from pathlib import Path

from tests.ledger.helpers import cli_env, run_cli


def test_a_perfectly_predicted_group_exports(tmp_path: Path) -> None:
    data = tmp_path / "perfect.csv"
    rows = [f"{i},{'ab'[i % 3 == 0]},{i % 2},{(i // 3) % 2 if i % 3 else i % 2}" for i in range(60)]
    data.write_text("id,group,label,pred\n" + "\n".join(rows) + "\n")
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(tmp_path / "ledger"), HOME=str(tmp_path))
    for args in (["init"], ["key", "generate"]):
        assert run_cli(*args, env=env).returncode == 0
    audited = run_cli(
        "audit", data, "--label", "label", "--prediction", "pred", "--sensitive", "group", env=env
    )
    assert audited.returncode == 0, audited.stderr
    bundle = tmp_path / "b.zip"
    exported = run_cli("export", "-o", bundle, "0", env=env)
    assert exported.returncode == 0, exported.stderr
    assert bundle.stat().st_size > 0
    report = run_cli("report", "0", "-o", tmp_path / "r.html", env=env)
    assert report.returncode == 0, report.stderr
    assert "<svg" in (tmp_path / "r.html").read_text()
