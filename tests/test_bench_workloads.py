"""Smoke test of bench/workloads.py: every workload and the scaling benchmark run and report (no timings checked)."""

from __future__ import annotations

import gc
import sys

import numpy as np
import pytest

from bench import workloads


def test_workloads_run_both_ways_on_a_tiny_budget():
    rng = np.random.default_rng(0)
    x = rng.random((300, 784), dtype=np.float32)
    y = rng.integers(0, 10, size=300)
    data = (x, y, x[:50], y[:50])
    rows = workloads.run_workloads(["W1", "W2", "W3", "W4"], reps=1, max_batches=2, steps=3, iters=5, mnist_data=data)
    assert [r["workload"] for r in rows] == ["W1", "W2", "W3", "W4"]
    for r in rows:
        assert r["numpy"] > 0 and r["ours"] > 0 and r["ratio"] == pytest.approx(r["ours"] / r["numpy"])
    w1, w2, w3, w4 = rows
    assert w1["numpy_note"] == w1["ours_note"]  # same weights, same batches: the same test accuracy
    assert w3["numpy_note"].startswith("mse ") and w3["numpy_note"] == w3["ours_note"]
    assert w4["ours_note"].endswith("grad err 0.0e+00")


def test_scaling_reports_each_size_and_leaves_the_gc_setting_alone(capsys):
    gc.disable()
    try:
        workloads.run_scaling([3], budget=10)
        assert not gc.isenabled()
    finally:
        gc.enable()
    rows = workloads.run_scaling([3], budget=10)
    assert gc.isenabled()
    workloads.print_scaling(rows)
    assert "| chain | 3 |" in capsys.readouterr().out
    assert {r["shape"] for r in rows} == {"chain", "fan-in"}
    assert all(r[key] > 0 for r in rows for key in ("forward_gc", "backward_gc", "forward_no_gc", "backward_no_gc"))


def test_command_line_smoke_prints_the_table(capsys, monkeypatch):
    monkeypatch.setattr(workloads, "load_mnist", lambda: pytest.fail("the smoke run below needs no MNIST"))
    workloads.main(["--smoke", "--workloads", "W3", "W4"])
    out = capsys.readouterr().out
    assert "| W3 |" in out and "| W4 |" in out and "| W1 |" not in out


def test_instruction_cases_run(monkeypatch):
    """bench/instructions.py's cases run as its valgrind children would (valgrind itself is not needed here)."""
    from bench import instructions

    monkeypatch.setattr(instructions, "ITERATIONS", 2)
    monkeypatch.setattr(instructions, "WARM_UP", 1)
    for name in instructions.CASES:
        instructions.run_child(name)
    monkeypatch.setattr(sys, "argv", ["instructions.py", "no_such_case"])
    with pytest.raises(SystemExit):
        instructions.main()


def test_w1_costs_measures_every_variant_and_restores_the_locks(monkeypatch, capsys):
    """bench/w1_costs.py on synthetic batches: every variant trains, and no_locks and tail_form_sigmoid
    leave locking and sigmoid's choice of form as they found them."""
    import tinygrad_edu.composites as composites
    import tinygrad_edu.function as function
    from bench import w1_costs

    rng = np.random.default_rng(0)
    x = rng.random((600, 784), dtype=np.float32)
    y = rng.integers(0, 10, size=600)
    monkeypatch.setattr(workloads, "load_mnist", lambda: (x, y, x[:10], y[:10]))
    lock, textbook_decision = function.lock, composites._textbook_sigmoid_is_accurate
    us = w1_costs.measure(rounds=1, batches=2)
    assert set(us) == {"numpy", *w1_costs.VARIANTS} and all(v > 0 for v in us.values())
    assert function.lock is lock and composites._textbook_sigmoid_is_accurate is textbook_decision
    monkeypatch.setattr(sys, "argv", ["w1_costs.py", "--rounds", "1", "--batches", "1"])
    w1_costs.main()
    assert "| identity |" in capsys.readouterr().out
