"""Every bound holds on every backend and engine (issue 10, "Bounds hold").

The models here would run for minutes or hours without their bound: a counter to 10**7
(one state per BFS level: the narrow levels that a check between chunks never stops), and a
two-counter grid.  Each test gives a small bound and asserts that the search stops well
within a generous multiple of it, as ``inconclusive``, with the reason naming the bound.
"""

from __future__ import annotations

import io
import math
import time

import pytest

from ordercheck import Const, Int, MapOf, Model, SetOf, Var, action, check, invariant, require, spec_of
from ordercheck.cli import main
from ordercheck.domain import Faults, Topology, never_lost
from ordercheck.explicit import Bounds, explore
from ordercheck.explicit.compile import compile_spec
from ordercheck.explicit.levels import explore_levels
from ordercheck.explicit.limits import Meter, parse_size, rss
from ordercheck.lang.errors import InputError

GENEROUS = 8.0  # seconds: the bounds below are 0.5 s; a stop within this is "within a generous multiple" on a busy 2-core machine


class Counter(Model):
    """One state per level, 10**7 levels: only a bound stops it."""

    x = Var(Int(0, 10**9), init=0)

    @action
    def inc(s):
        require(s.x < 10**7)
        s.x = s.x + 1

    @invariant
    def nonnegative(s):
        return s.x >= 0


class Grid(Model):
    """Wide levels: 2,001 x 2,001 states."""

    x = Var(Int(0, 2000), init=0)
    y = Var(Int(0, 2000), init=0)

    @action
    def right(s):
        require(s.x < 2000)
        s.x = s.x + 1

    @action
    def up(s):
        require(s.y < 2000)
        s.y = s.y + 1

    @invariant
    def fine(s):
        return s.x + s.y >= 0


RUNS = [
    pytest.param(dict(backend="scalar"), id="scalar"),
    pytest.param(dict(backend="vectorized"), id="vectorized"),
    pytest.param(dict(backend="vectorized", store="fingerprint"), id="vectorized-fingerprint"),
    pytest.param(dict(backend="scalar", workers=2), id="workers"),
]


def _timed(model: Model, **options: object) -> tuple[float, object]:
    start = time.monotonic()
    result = check(model, **options)  # type: ignore[arg-type]
    return time.monotonic() - start, result


@pytest.mark.parametrize("options", RUNS)
@pytest.mark.parametrize("cls", [Counter, Grid], ids=["narrow-levels", "wide-levels"])
def test_time_bound_stops_every_backend(cls, options):
    took, result = _timed(cls(), max_seconds=0.5, **options)
    assert result.verdict == "inconclusive"
    assert "time bound 0.5 s reached" in result.reason and "overshoot" in result.reason
    assert took < GENEROUS
    assert result.stats.distinct_states > 1  # it did work, and reports how far it got


@pytest.mark.parametrize("options", RUNS)
def test_memory_bound_ends_inconclusive_with_statistics(options):
    # a bound below what the process already holds: the first check stops the search
    result = check(Grid(), max_memory=max(1, rss() // 2), **options)
    assert result.verdict == "inconclusive"
    assert "memory bound" in result.reason and "reached" in result.reason
    assert "states at depth" in result.reason


def test_memory_error_is_the_same_verdict():
    """A ``MemoryError`` inside the search is the memory verdict, not a traceback."""
    spec = spec_of(Grid())
    compiled = compile_spec(spec)
    calls = 0
    real = compiled.successors

    def failing(x: int) -> list[tuple[int, int]]:
        nonlocal calls
        calls += 1
        if calls > 100:
            raise MemoryError
        return real(x)

    compiled.successors = failing  # type: ignore[misc]
    result = explore(spec, compiled=compiled)
    assert result.verdict == "inconclusive"
    assert "memory bound" in result.reason and "out of memory" in result.reason
    assert result.stats.distinct_states > 100


def test_narrow_levels_stop_in_the_level_search_with_tiny_chunks():
    took = time.monotonic()
    result = explore_levels(spec_of(Counter()), bounds=Bounds(max_seconds=0.3), small_level=0, chunk=1)
    took = time.monotonic() - took
    assert result.verdict == "inconclusive" and "time bound" in result.reason
    assert took < GENEROUS


def test_a_shared_start_counts_time_already_spent():
    """Bounds.started: a search that is part of a longer run has only what is left of the run's time."""
    result = explore(spec_of(Counter()), bounds=Bounds(max_seconds=0.5, started=time.monotonic() - 10))
    assert result.verdict == "inconclusive"
    # stopped at its first check: the run's 0.5 s were spent before it started
    assert result.stats.distinct_states <= 17
    m = Meter(Bounds(max_seconds=0.5, started=time.monotonic() - 10))
    assert m.exceeded(0, 0) is not None


@pytest.mark.parametrize("name, value", [("max_seconds", math.nan), ("max_seconds", math.inf), ("max_seconds", 0), ("max_seconds", -1.0),
                                         ("max_states", 0), ("max_states", 2.5), ("max_depth", -3), ("max_memory", 0),
                                         ("max_memory", math.inf), ("max_states", True)])
def test_non_positive_or_non_finite_bounds_are_input_errors(name, value):
    with pytest.raises(InputError, match=name):
        check(Counter(), **{name: value})


@pytest.mark.parametrize("args", [["--max-seconds", "nan"], ["--max-seconds", "inf"], ["--max-seconds", "0"], ["--max-memory", "0"],
                                  ["--max-memory", "lots"], ["--max-memory", "-2G"], ["--max-states", "0"]])
def test_cli_refuses_bad_bounds_with_exit_2(args):
    err = io.StringIO()
    try:
        code = main(["check", "model/twophase.py", *args], out=io.StringIO(), err=err)
    except SystemExit as exc:  # argparse's own exit
        code = exc.code  # type: ignore[assignment]
    assert code == 2
    assert "Traceback" not in err.getvalue()
    assert args[0] in err.getvalue()


def test_cli_max_memory_bound_is_inconclusive():
    out = io.StringIO()
    code = main(["check", "model/twophase.py", "--quiet", "--const", "RM=a,b,c,d,e,f", "--max-memory", "1M"], out=out, err=io.StringIO())
    assert code == 3
    assert "memory bound 1.0 MiB reached" in out.getvalue()


def test_parse_size_units():
    # powers of 1024, written out: 2G = 2 * 1024**3
    assert parse_size("2G") == 2 * 1024**3
    assert parse_size("512MB") == 512 * 1024**2
    assert parse_size("1.5KiB") == 1536
    assert parse_size("1000") == 1000


def test_bmc_refuses_a_memory_bound():
    with pytest.raises(InputError, match="memory"):
        check(Counter(), engine="bmc", depth=3, max_memory=1 << 30)


# ----------------------------------------------------------------------------- tolerance obeys the run's bounds


class Slow(Model):
    """Faults over three nodes and a counter that makes every budget layer long: tolerance would take hours."""

    NODE = Const(Topology.from_nodes({"a": {"role": "db"}, "b": {"role": "db"}, "c": {"role": "db"}}))
    ORDER = Const(("o1",))
    disk = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="disk")
    acked = Var(SetOf(ORDER), init=())
    ticks = Var(Int(0, 10**6), init=0)
    faults = Faults(crash=True, power_loss=False, disk_loss=False, budget=1)

    @action(o=ORDER, n=NODE, on="n")
    def store(s, o, n):
        s.disk[n] = s.disk[n].add(o)

    @action
    def tick(s):
        require(s.ticks < 10**6)
        s.ticks = s.ticks + 1

    @invariant
    def kept(s):
        return never_lost(s.acked, copies=s.disk)


def test_tolerance_obeys_the_time_bound_of_the_whole_run():
    took, result = _timed(Slow(), max_seconds=1.0, tolerance=True)
    assert took < 2 * GENEROUS
    assert result.verdict == "inconclusive"
    tolerance = result.extra["tolerance"]["kept"]
    assert tolerance.verdict == "inconclusive"
    assert "time bound" in tolerance.reason


def test_tolerance_obeys_the_state_bound_of_the_whole_run():
    """The plain check spends the whole state bound: the tolerance searches get none of it."""
    result = check(Slow(), max_states=500, tolerance=True)
    assert result.stats.distinct_states == 500
    tolerance = result.extra["tolerance"]["kept"]
    assert tolerance.verdict == "inconclusive"
    assert "state bound 500" in tolerance.reason


class FaultTicker(Model):
    """Tiny at its declared budget of 0; with a fault, a counter runs to 10**6: tolerance would take hours."""

    NODE = Const(Topology.from_nodes({"a": {"role": "db"}, "b": {"role": "db"}}))
    ORDER = Const(("o1",))
    disk = Var(MapOf(NODE, SetOf(ORDER)), init=(), medium="disk")
    acked = Var(SetOf(ORDER), init=())
    ticks = Var(Int(0, 10**6), init=0)
    faults = Faults(crash=True, power_loss=False, disk_loss=False, budget=0)

    @action(n=NODE)
    def tick(s, n):
        require(~s.up[n] & (s.ticks < 10**6))
        s.ticks = s.ticks + 1

    @invariant
    def kept(s):
        return never_lost(s.acked, copies=s.disk)


def test_tolerance_without_a_time_bound_gets_a_share_of_the_check(monkeypatch):
    """No --max-seconds: the measurement may take TOLERANCE_SHARE x the check (at least the floor), then says 'at least k'."""
    import ordercheck.api

    monkeypatch.setattr(ordercheck.api, "TOLERANCE_FLOOR", 0.5)
    took, result = _timed(FaultTicker(), tolerance=True)
    assert result.verdict == "holds"  # the check itself is complete: only the tolerance is open
    assert took < GENEROUS
    tolerance = result.extra["tolerance"]["kept"]
    assert tolerance.verdict == "inconclusive" and "time bound" in tolerance.reason
    assert tolerance.k == 0 and tolerance.reason.startswith("at least 0")  # budget 0 explored completely
