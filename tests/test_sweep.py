"""ordercheck sweep and tune: grids of design values, the variant x property table, the cheapest design that holds."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ordercheck import check
from ordercheck.cli import main
from ordercheck.design import DesignError, load_design
from ordercheck.sweep import CostModel, Task, VariantResult, load_grid, run_sweep, run_task, tune

# The PostgreSQL design the sweep varies; the hand-written variants below repeat it with the values filled in.
POSTGRES = '''
name = "pg"
orders = 1

[[node]]
name = "db1"
role = "primary"

[[node]]
name = "db2"
role = "replica"

[[node]]
name = "db3"
role = "replica"

[protocol]
preset = "postgresql"
synchronous_commit = "{commit}"
synchronous_standby_names = "{standbys}"
failover = "confirmed-standby"

[check]
faults = {{ kinds = ["crash", "power-loss", "disk-loss"], budget = 1, domain = "node" }}

[[check.property]]
kind = "never_lost"

[[check.property]]
name = "survives one node failure"
kind = "survives"
k = 1
'''

COMMITS = ["off", "local", "remote_write", "on", "remote_apply"]
STANDBYS = ["FIRST 1 (db2)", "FIRST 2 (db2, db3)"]

TWO = '''
name = "two"
orders = 1

[[node]]
name = "db1"
role = "primary"

[[node]]
name = "db2"
role = "replica"
replication = "sync"

[protocol]
family = "replicated-log"
ack = "primary.disk"

[check]
faults = { kinds = ["crash", "power-loss", "disk-loss"], budget = 1 }

[[check.property]]
kind = "never_lost"
'''


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _verdicts(result: VariantResult) -> dict[str, str]:
    return {row.name: row.verdict for row in result.rows}


def test_postgresql_sweep_agrees_with_each_variant_checked_by_hand(tmp_path: Path) -> None:
    design = _write(tmp_path, "pg.toml", POSTGRES.format(commit="on", standbys="FIRST 1 (db2)"))
    grid = _write(tmp_path, "grid.toml", f'[grid]\n"protocol.synchronous_commit" = {json.dumps(COMMITS)}\n'
                                         f'"protocol.synchronous_standby_names" = {json.dumps(STANDBYS)}\n')
    sweep = run_sweep(design, load_grid(grid, design), workers=2)
    assert len(sweep.variants) == len(COMMITS) * len(STANDBYS)
    for result in sweep.variants:
        values = dict(result.variant.values)
        commit, standbys = values["protocol.synchronous_commit"], values["protocol.synchronous_standby_names"]
        by_hand = load_design(_write(tmp_path, f"{commit}-{standbys[6]}.toml", POSTGRES.format(commit=commit, standbys=standbys)))
        expected = {p.name: p.verdict for p in check(by_hand.model(), keep_going=True).properties}
        assert _verdicts(result) == expected, values
        assert not result.error and not result.failure
    # From PostgreSQL's documentation: `off` acknowledges from the WAL buffers (a crash loses the commit),
    # `local` from the primary's disk alone (losing that disk loses it), `on` waits for the standby's flush.
    table = {dict(r.variant.values)["protocol.synchronous_commit"]: _verdicts(r)["never_lost"] for r in sweep.variants}
    assert (table["off"], table["local"], table["on"]) == ("violated", "violated", "holds")


def test_results_are_the_same_with_one_worker_or_several(tmp_path: Path) -> None:
    design = _write(tmp_path, "pg.toml", POSTGRES.format(commit="on", standbys="FIRST 1 (db2)"))
    grid = load_grid(_write(tmp_path, "grid.toml", f'[grid]\n"protocol.synchronous_commit" = {json.dumps(COMMITS)}\n'), design)
    one, two = run_sweep(design, grid, workers=1), run_sweep(design, grid, workers=2)

    def shown(sweep: object) -> list[tuple[object, ...]]:
        return [(v.variant, v.rows, v.states, v.cost, v.error) for v in sweep.variants]  # type: ignore[attr-defined]

    assert shown(one) == shown(two)


def test_an_invalid_variant_is_listed_with_its_error(tmp_path: Path) -> None:
    design = _write(tmp_path, "two.toml", TWO)
    grid = _write(tmp_path, "grid.toml", '[grid]\n"protocol.ack" = ["primary.disk", "app.memory", "primary.disk and 1 of sync.disk"]\n')
    sweep = run_sweep(design, load_grid(grid, design), workers=1)
    assert [bool(v.error) for v in sweep.variants] == [False, True, False]
    invalid = sweep.variants[1]
    assert "app" in invalid.error and "two.toml:16" in invalid.error  # the line of `ack` in the design file
    out, _ = _run(["sweep", str(design), "--grid", str(grid), "--quiet", "--markdown", str(tmp_path / "t.md")])
    assert out[0] == 0
    assert "variant 2 (protocol.ack=app.memory): " in out[1] and "invalid" in out[1]
    assert "app.memory | invalid" in (tmp_path / "t.md").read_text()


def _run(argv: list[str]) -> tuple[tuple[int, str], str]:
    import io

    out, err = io.StringIO(), io.StringIO()
    code = main(argv, out, err)
    return (code, out.getvalue()), err.getvalue()


@pytest.mark.parametrize(("grid", "where", "words"), [
    ('[grid]\nordres = [1, 2]\n', "grid.toml:2: grid.ordres", "did you mean 'orders'?"),
    ('[grid]\n"protocol.synchronus_commit" = ["on"]\n', "grid.toml:2: grid.protocol.synchronus_commit", "did you mean 'synchronous_commit'?"),
    ('[grid]\n"node.db9.rack" = ["r1"]\n', "grid.toml:2: grid.node.db9.rack", "did you mean 'db3'?"),
    ('[grid]\norders = 2\n', "grid.toml:2: grid.orders", "list of values"),
    ('[grid]\norders = [1]\n[cots]\nserver = 1\n', "grid.toml:3: cots", "did you mean 'cost'?"),
    ('[grid]\norders = [1]\n[cost]\nserver = -1\n', "grid.toml:4: cost.server", "0 or more"),
])
def test_a_mistake_in_the_grid_names_the_grid_file_line_and_key(tmp_path: Path, grid: str, where: str, words: str) -> None:
    design = _write(tmp_path, "pg.toml", POSTGRES.format(commit="on", standbys="FIRST 1 (db2)"))
    path = _write(tmp_path, "grid.toml", grid)
    with pytest.raises(DesignError) as caught:
        load_grid(path, design)
    assert where in str(caught.value) and words in str(caught.value)
    (code, _), err = _run(["sweep", str(design), "--grid", str(path), "--quiet"])
    assert code == 2 and where in err and "Traceback" not in err


def test_cost_counts_servers_and_the_replicas_the_acknowledgement_waits_for(tmp_path: Path) -> None:
    design = _write(tmp_path, "two.toml", TWO)
    grid = _write(tmp_path, "grid.toml", '[grid]\n"protocol.ack" = ["primary.disk", "primary.disk and 1 of sync.os-cache", '
                                         '"primary.disk and 1 of sync.disk"]\n[cost]\nserver = 3\nrole = { replica = 5 }\n'
                                         'ack_replica = 7\nremote_fsync = 11\n')
    loaded = load_grid(grid, design)
    assert loaded.cost == CostModel(server=3.0, role={"replica": 5.0}, ack_replica=7.0, remote_fsync=11.0)
    costs = [v.cost for v in run_sweep(design, loaded, workers=1).variants]
    # db1 (primary, 3) + db2 (replica, 5) = 8; the os-cache rule waits for one replica (+7); the disk rule also fsyncs it (+11).
    assert costs == [8, 15, 26]


def test_tune_picks_the_cheapest_variant_that_holds_and_every_cheaper_one_is_violated(tmp_path: Path) -> None:
    design = _write(tmp_path, "two.toml", TWO)
    rules = ["primary.memory", "primary.disk", "primary.disk and 1 of sync.os-cache", "primary.disk and 1 of sync.disk"]
    grid = _write(tmp_path, "grid.toml", f'[grid]\n"protocol.ack" = {json.dumps(rules)}\n')
    answer = tune(run_sweep(design, load_grid(grid, design), workers=2), ["never_lost"])
    # By hand, default costs (1 a server, 1 a replica waited for, 1 its remote fsync): 2, 2, 3, 4.
    # primary.memory: crash(db1) empties its memory; primary.disk: disk_loss(db1) takes the only copy;
    # one fault after an ack that waited for db2's OS cache leaves db1's disk or db2's cache: holds, at cost 3.
    assert [dict(v.variant.values)["protocol.ack"] for v in answer.winners] == [rules[2]]
    assert answer.winners[0].cost == 3
    assert [(dict(r.variant.variant.values)["protocol.ack"], r.property, r.verdict) for r in answer.cheaper] == [
        (rules[0], "never_lost", "violated"), (rules[1], "never_lost", "violated")]
    assert all(r.trace for r in answer.cheaper)
    assert answer.verdict == "holds"
    (code, out), _ = _run(["tune", str(design), "--grid", str(grid), "--require", "never_lost", "--quiet", "--json", str(tmp_path / "t.json")])
    assert code == 0 and "counterexample: " in out
    assert json.loads((tmp_path / "t.json").read_text())["winners"][0]["values"] == {"protocol.ack": rules[2]}
    (code, _), err = _run(["tune", str(design), "--grid", str(grid), "--require", "never_lsot", "--quiet"])
    assert code == 2 and "did you mean 'never_lost'?" in err


def dying_runner(task: Task) -> VariantResult:
    """A worker that dies the first time it checks variant 2 and every time it checks variant 3."""
    marker = Path(task.design).parent / f"died-{task.variant.index}"
    if task.variant.index == 2 or (task.variant.index == 1 and not marker.exists()):
        marker.touch()
        os._exit(1)
    return run_task(task)


def test_a_worker_that_dies_is_retried_once_then_inconclusive(tmp_path: Path) -> None:
    design = _write(tmp_path, "pg.toml", POSTGRES.format(commit="on", standbys="FIRST 1 (db2)"))
    grid = load_grid(_write(tmp_path, "grid.toml", '[grid]\n"protocol.synchronous_commit" = ["off", "local", "on"]\n'), design)
    sweep = run_sweep(design, grid, workers=2, runner=dying_runner)
    plain = run_sweep(design, grid, workers=1)
    assert [v.rows for v in sweep.variants[:2]] == [v.rows for v in plain.variants[:2]]  # variant 2 passed on its retry
    lost = sweep.variants[2]
    assert lost.failure and not lost.rows and lost.inconclusive
    assert (tmp_path / "died-1").exists() and (tmp_path / "died-2").exists()
    assert tune(sweep, ["never_lost"]).verdict == "inconclusive"  # the lost variant might have been the winner


def test_a_bound_makes_the_sweep_inconclusive(tmp_path: Path) -> None:
    design = _write(tmp_path, "pg.toml", POSTGRES.format(commit="on", standbys="FIRST 1 (db2)"))
    grid = _write(tmp_path, "grid.toml", '[grid]\n"protocol.synchronous_commit" = ["off", "on"]\n')
    (code, out), err = _run(["sweep", str(design), "--grid", str(grid), "--max-states", "5", "--workers", "1",
                             "--json", str(tmp_path / "s.json")])
    assert code == 3 and "inconclusive" in out
    assert "sweep: 2/2 done, 0 running, 0 failed" in err
    doc = json.loads((tmp_path / "s.json").read_text())
    assert [v["values"] for v in doc["variants"]] == [{"protocol.synchronous_commit": "off"}, {"protocol.synchronous_commit": "on"}]


def test_the_dask_executor_gives_the_local_pool_results(tmp_path: Path) -> None:
    if os.environ.get("CI"):
        import dask.distributed as distributed  # CI installs the dev extra, which includes Dask: run, never skip
    else:
        distributed = pytest.importorskip("dask.distributed")
    design = _write(tmp_path, "pg.toml", POSTGRES.format(commit="on", standbys="FIRST 1 (db2)"))
    grid = load_grid(_write(tmp_path, "grid.toml", '[grid]\n"protocol.synchronous_commit" = ["off", "local", "on"]\n'), design)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
        on_dask = run_sweep(design, grid, scheduler=cluster.scheduler_address)
    local = run_sweep(design, grid, workers=1)
    assert [(v.variant, v.rows, v.states, v.cost) for v in on_dask.variants] == [(v.variant, v.rows, v.states, v.cost) for v in local.variants]


@pytest.mark.slow
def test_tune_on_the_hospital_finds_the_corrected_acknowledgement(tmp_path: Path) -> None:
    design = Path("model/hospital-4-corrected.toml").resolve()
    rules = ["primary.disk", "primary.disk and 1 of replica.disk", "primary.disk and 2 of replica.disk"]
    grid = _write(tmp_path, "grid.toml", f'[grid]\n"protocol.ack" = {json.dumps(rules)}\n')
    survives = "an acknowledged order survives any two-node failure"
    answer = tune(run_sweep(design, load_grid(grid, design), workers=2), [survives, "no acknowledged order is lost"])
    # Ten servers (10) plus, per replica whose disk the ack waits for, 1 + 1: costs 10, 12 and 14.  With two node
    # faults, disk_loss of the primary and of the one replica the middle rule waited for loses the order.
    assert [(dict(v.variant.values)["protocol.ack"], v.cost) for v in answer.winners] == [(rules[2], 14)]
    assert [(r.variant.cost, r.property, r.verdict) for r in answer.cheaper] == [(10, survives, "violated"), (12, survives, "violated")]
    assert answer.verdict == "holds"


def test_cost_weighs_the_hops_to_the_replicas_the_acknowledgement_waits_for(tmp_path: Path) -> None:
    nodes = "".join(f'[[node]]\nname = "{n}"\nrole = "{role}"\n{mode}rack = "{rack}"\nsite = "{site}"\n\n' for n, role, mode, rack, site in [
        ("db1", "primary", "", "r1", "s1"), ("db2", "replica", 'replication = "sync"\n', "r2", "s1"),
        ("db3", "replica", 'replication = "sync"\n', "r3", "s2")])
    design = _write(tmp_path, "three.toml", TWO.split("[[node]]")[0] + nodes + "[protocol]" + TWO.split("[protocol]")[1])
    grid = _write(tmp_path, "grid.toml", '[grid]\n"protocol.ack" = ["primary.disk and 1 of sync.disk", "primary.disk and all of sync.disk"]\n'
                                         '[cost]\nhop = { rack = 0.5, site = 2 }\n')
    costs = [v.cost for v in run_sweep(design, load_grid(grid, design), workers=1).variants]
    # 3 servers; 1 of sync: db2, the nearer (another rack, 0.5), + 1 waited + 1 fsync = 5.5;
    # all of sync: db2 (0.5) and db3 (another rack and site, 2.5), + 2 waited + 2 fsyncs = 3 + 3 + 4 = 10.
    assert costs == [5.5, 10]


def test_tolerance_column_and_the_pareto_front_of_tolerance_against_cost(tmp_path: Path) -> None:
    from ordercheck.sweep import pareto_front

    design = _write(tmp_path, "two.toml", TWO)
    rules = ["primary.memory", "primary.disk", "primary.disk and 1 of sync.os-cache", "primary.disk and 1 of sync.disk"]
    grid = _write(tmp_path, "grid.toml", f'[grid]\n"protocol.ack" = {json.dumps(rules)}\n')
    sweep = run_sweep(design, load_grid(grid, design), workers=2, tolerance=True)
    # By hand: one crash (memory) or one disk loss (primary's disk alone) loses an order acknowledged under the first two
    # rules: tolerance 0.  The last two leave two copies (db1's disk and db2's cache or disk), so one fault never loses
    # it and two do (disk_loss(db1) with power_loss or disk_loss of db2): tolerance 1.
    assert [next(r.tolerance for r in v.rows if r.name == "never_lost") for v in sweep.variants] == [0, 0, 1, 1]
    # Costs 2, 2, 3, 4: the cost-4 variant tolerates no more than the cost-3 one, so it is off the front.
    assert [v.variant.index for v in pareto_front(sweep)] == [0, 1, 2]
    (code, out), _ = _run(["sweep", str(design), "--grid", str(grid), "--quiet", "--tolerance", "--html", str(tmp_path / "s.html")])
    assert code == 0 and "holds (tolerates 1)" in out
    page = (tmp_path / "s.html").read_text()
    assert page.count('fill="#c0392b"') == 3 and "<svg" in page and "http" not in page.replace("http://www.w3.org/2000/svg", "")
