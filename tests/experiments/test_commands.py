"""``batchbald run`` and ``batchbald report`` end to end through ``main([...])``."""

from __future__ import annotations

from batchbald.cli import main

from .factories import tiny_config, to_toml


def test_run_then_report(tmp_path, capsys):
    config = tmp_path / "tiny.toml"
    config.write_text(to_toml(tiny_config()))
    out = tmp_path / "results"
    assert main(["run", str(config), "--out", str(out), "--jobs", "1", "--quiet"]) == 0
    log = capsys.readouterr()
    assert "tiny/bald_b3/trial_0 step 2" in log.err and "2 trials in" in log.out
    report_args = [
        "report", str(out), "--thresholds", "0.5", "--sizes", "13",
        "--plot", str(tmp_path / "acc.png"), "--plots-dir", str(tmp_path / "plots"),
        "--markdown", str(tmp_path / "t.md"), "--csv", str(tmp_path / "t.csv"),
        "--steps-csv", str(tmp_path / "steps.csv"), "--time-reference", "random_b3",
    ]  # fmt: skip
    assert main(report_args) == 0
    printed = capsys.readouterr().out
    assert "bald_b3" in printed and "random_b3" in printed and "50% (25/50/75)" in printed
    assert (tmp_path / "acc.png").stat().st_size > 0 and (tmp_path / "acc.svg").exists()
    assert len(list((tmp_path / "plots").glob("*.png"))) == 4
    assert (tmp_path / "t.md").read_text().startswith("| experiment")
    assert len((tmp_path / "steps.csv").read_text().splitlines()) == 1 + 2 * 3
    # Running again resumes: everything is already complete.
    assert main(["run", str(config), "--out", str(out), "--jobs", "1", "--quiet"]) == 0
    assert "already complete" in capsys.readouterr().err


def test_run_and_report_errors(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(to_toml(tiny_config(trials=0)))
    assert main(["run", str(bad), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml: trials must be an int ≥ 1; got 0" in err and "Traceback" not in err
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert "does not exist" in capsys.readouterr().err
