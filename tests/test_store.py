"""Visited-state stores and the parent log.

* :class:`SortedRuns` is a set: random batches of inserts and lookups agree with a Python set,
  whatever the merging of its arrays;
* the exact store of wide states orders its records like the packed values, and distinguishes
  states that share a fingerprint;
* the fingerprint store: a one-word state is its own fingerprint (probability 0), wider states are
  hashed with the birthday-bound probability; searched with it (hashed even for narrow states) the
  random models give the scalar search's counts, verdicts and traces;
* :class:`ParentLog` rebuilds chains; bytes per state are what the docs say; the CLI prints the
  store and the probability.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import random_models
from test_vectorized import Wide, outcome, scalar_run

from ordercheck import spec_of
from ordercheck.cli import main
from ordercheck.explicit.levels import explore_levels
from ordercheck.explicit.store import ExactStore, FingerprintStore, ParentLog, SortedRuns, fingerprints, make_store
from ordercheck.explicit.vectorized import to_words
from ordercheck.lang.errors import InputError

EXAMPLES = int(os.environ.get("ORDERCHECK_STORE_EXAMPLES", "60"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2**64 - 1) | st.integers(0, 50), max_size=40), max_size=25))
def test_sorted_runs_is_a_set(batches):
    runs = SortedRuns(np)
    model: set[int] = set()
    for batch in batches:
        keys = np.array(sorted(set(batch)), dtype=np.uint64)
        found = runs.contains(keys)
        assert found.tolist() == [k in model for k in keys.tolist()]
        runs.add(keys[~found])
        model.update(batch)
        assert len(runs) == len(model)
        assert all(np.all(r[1:] > r[:-1]) for r in runs.runs)
        sizes = [r.shape[0] for r in runs.runs]
        assert sizes == sorted(sizes, reverse=True)
    probe = np.array(sorted({*model, 0, 7, 2**64 - 1}), dtype=np.uint64)
    assert runs.contains(probe).tolist() == [k in model for k in probe.tolist()]


def test_runs_stay_few():
    runs = SortedRuns(np)
    for i in range(300):
        runs.add(np.arange(i * 1000, (i + 1) * 1000, dtype=np.uint64))
    assert len(runs) == 300_000
    assert len(runs.runs) <= 20
    assert runs.nbytes == 8 * 300_000


def test_exact_store_of_wide_states_orders_records_like_the_values():
    store = ExactStore(width=100, words=2)
    values = [5, 2**64, 3 * 2**64 + 1, 2**64 - 1, 2**70]
    keys = store.keys(to_words(values, 2))
    order = np.argsort(keys, kind="stable").tolist()
    assert [values[i] for i in order] == sorted(values)
    sorted_keys = np.sort(keys)
    store.add(sorted_keys[:3])
    assert store.contains(sorted_keys).tolist() == [True, True, True, False, False]
    assert store.nbytes == 3 * 16
    with pytest.raises(InputError, match="--device cpu"):
        ExactStore(width=100, words=2, xp=object())  # type: ignore[arg-type]


def test_fingerprints_and_collision_probability():
    narrow = FingerprintStore(width=30, words=1)
    rows = to_words([1, 2, 3], 1)
    assert narrow.keys(rows) is rows[0] and narrow.collision_probability() == 0.0
    wide = FingerprintStore(width=100, words=2)
    fp = wide.keys(to_words([1, 2**64 + 1, 2**65 + 1], 2))
    assert fp.dtype == np.uint64 and len(set(fp.tolist())) == 3
    wide.add(np.sort(np.arange(1, 1001, dtype=np.uint64)))
    assert wide.collision_probability() == pytest.approx(1000 * 999 / 2**65)
    assert fingerprints(to_words([7], 1)).tolist() == fingerprints(to_words([7], 1)).tolist()
    info = wide.info()
    assert (info["kind"], info["states"], info["bytes_per_state"]) == ("fingerprint", 1000, 8.0)
    with pytest.raises(InputError, match="unknown store"):
        make_store("disk", 10, 1)


def test_parent_log_chains():
    log = ParentLog(bindings=70000)
    log.add_roots([11, 12])
    log.add_level(np.array([0, 1, 1]), np.array([5, 69999, 3]))
    log.add_level(np.array([4, 2]), np.array([1, 2]))
    assert log.actions[0].dtype == np.uint32 and log.parents[0].dtype == np.uint32
    assert log.chain(6) == (0, [5, 2])
    assert log.chain(5) == (1, [3, 1])
    assert log.chain(3) == (1, [69999])
    assert log.chain(1) == (1, [])
    assert len(log) == 7 and log.nbytes == 5 * 8
    with pytest.raises(ValueError):
        log.add_roots([3])


def _hashed(spec: Any) -> FingerprintStore:
    width = spec.width
    return FingerprintStore(width, max(1, -(-width // 64)), hashed=True)


@SETTINGS
@given(random_models())
def test_fingerprint_store_search_agrees_with_scalar_search(gm):
    spec = spec_of(gm.model)
    for kw in ({}, {"keep_going": True, "deadlock": True}):
        expected = outcome(scalar_run(spec, **kw))
        assert outcome(lambda kw=kw: explore_levels(spec, store="fingerprint", **kw)) == expected
        assert outcome(lambda kw=kw: explore_levels(spec, store=_hashed(spec), backend="scalar", **kw)) == expected
        assert outcome(lambda kw=kw: explore_levels(spec, store=_hashed(spec), small_level=0, chunk=32, **kw)) == expected


def test_wide_model_with_each_store():
    spec = spec_of(Wide(N=("n0", "n1", "n2", "n3", "n4")))
    expected = outcome(scalar_run(spec, keep_going=True))
    for store in ("exact", "fingerprint"):
        r = explore_levels(spec, store=store, keep_going=True, small_level=0)
        assert outcome(lambda r=r: r) == expected
        assert r.extra["store"]["bytes_per_state"] == (24.0 if store == "exact" else 8.0)  # three words, or a fingerprint


def test_cli_reports_store_and_collision_probability(tmp_path, capsys):
    from conftest import MODEL_DIR

    code = main(["check", str(MODEL_DIR / "twophase.py"), "--const", "RM=a,b,c,d", "--backend", "vectorized", "--store", "fingerprint", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert "backend: vectorized; store: fingerprint" in out
    assert "fingerprint collision probability 0 (states fit 64 bits)" in out
