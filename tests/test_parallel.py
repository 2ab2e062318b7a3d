"""Parallel search (``workers > 1``): the same counts, verdicts and shortest traces as one worker.

Each level's frontier is expanded by forked worker processes and merged in order, so the
new states come in the same order as with one process: everything, counterexamples
included, is identical to the scalar search.  Random models are kept few (a pool costs a
fork); the chunks are made small so that every level with two or more states goes to the pool.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from strategies import random_models
from test_vectorized import Fails, Wide, outcome, scalar_run

from ordercheck import check, spec_of
from ordercheck.cli import main
from ordercheck.explicit.levels import explore_levels
from ordercheck.explicit.parallel import check_workers
from ordercheck.lang.errors import InputError

EXAMPLES = int(os.environ.get("ORDERCHECK_PARALLEL_EXAMPLES", "30"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(random_models())
def test_two_workers_agree_with_the_scalar_search(gm):
    spec = spec_of(gm.model)
    kw = {"keep_going": True, "deadlock": True}
    expected = outcome(scalar_run(spec, **kw))
    assert outcome(lambda: explore_levels(spec, workers=2, small_level=2, **kw)) == expected
    assert outcome(lambda: explore_levels(spec, workers=2, backend="scalar", small_level=2, **kw)) == expected


def test_two_workers_on_wide_states_and_model_errors():
    spec = spec_of(Wide(N=("n0", "n1", "n2", "n3", "n4")))
    assert outcome(lambda: explore_levels(spec, workers=2, small_level=2)) == outcome(scalar_run(spec))
    fails = spec_of(Fails())
    assert outcome(lambda: explore_levels(fails, workers=2, small_level=1)) == outcome(scalar_run(fails))


def test_check_and_cli_with_workers(capsys):
    from conftest import MODEL_DIR, load_model_module

    TwoPhase = load_model_module("twophase").TwoPhase
    model = TwoPhase(RM=("a", "b", "c", "d", "e"))
    one = check(model, backend="scalar")
    two = check(model, workers=2)
    assert (two.stats.distinct_states, two.stats.generated_states, two.stats.depth) == (8832, one.stats.generated_states, 17)
    assert two.extra["workers"] == 2
    code = main(["check", str(MODEL_DIR / "twophase.py"), "--const", "RM=a,b,c,d,e", "--workers", "2", "--quiet"])
    assert code == 0 and "2 workers" in capsys.readouterr().out


def test_worker_count_is_checked():
    check_workers(1, "gpu")
    with pytest.raises(InputError, match="CPU only"):
        check_workers(2, "gpu")
    with pytest.raises(InputError, match="at least 1"):
        check_workers(0, "cpu")
    assert main(["check", "model/twophase.py", "--workers", "0"]) == 2
