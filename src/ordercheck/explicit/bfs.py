"""Breadth-first exploration of packed states, with parent pointers for shortest traces.

States are stored once, in discovery order: ``states[i]`` is a packed state,
``parents[i]`` the index of the state it was first reached from and
``actions[i]`` the binding that reached it.  Because discovery is breadth
first, each BFS level is a contiguous range of indices, and the path back
through the parents is a shortest one.

Examples
--------
>>> from ordercheck.lang import Model, Var, Int, action, invariant, require, spec_of
>>> class Up(Model):
...     x = Var(Int(0, 3), init=0)
...     @action
...     def inc(s):
...         require(s.x < 3)
...         s.x = s.x + 1
...     @invariant
...     def small(s):
...         return s.x < 2
>>> r = explore(spec_of(Up()))
>>> r.verdict, len(r.counterexample), r.stats.depth
('violated', 3, 3)
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..lang.errors import InputError, ModelError
from ..lang.interpret import fire, holds
from ..lang.spec import Spec, State, select_properties
from ..report.build import build_trace
from ..report.result import HOLDS, INCONCLUSIVE, VIOLATED, PropertyResult, Result, Stats
from .compile import CheckFailure, CompiledSpec, compile_spec
from .limits import Bounds, Meter

if TYPE_CHECKING:
    from .symmetry import Symmetry

__all__ = ["Bounds", "Layers", "explore", "select_properties"]

DEADLOCK = "deadlock"


@dataclass(frozen=True)
class Layers:
    """A search ordered by a counter that never decreases along a transition (faults spent).

    ``of(x)`` is the layer of packed state ``x`` (the value of the slot at ``offset`` of ``width``
    bits); layer ``j`` is explored completely before any state of layer ``j + 1``, up to
    layer ``last``; the initial states are in layer 0.  States of layers up to ``j`` are then exactly the states reachable without
    passing through a later layer (for faults spent: the reachable states of the model with budget ``j``).
    """

    offset: int
    width: int
    last: int

    def of(self, x: int) -> int:
        return (x >> self.offset) & ((1 << self.width) - 1)


class _Search:
    def __init__(self, spec: Spec, compiled: CompiledSpec, selected: list[int], keep_going: bool, deadlock: bool,
                 bounds: Bounds, progress: Callable[[Stats], None] | None, symmetry: Symmetry | None = None,
                 layers: Layers | None = None) -> None:
        self.spec = spec
        self.layers = layers
        self.layer = 0  # with layers: the layer being explored
        self.layer_done = -1  # the last layer explored completely
        self.layer_violated: dict[int, int] = {}  # property -> the first layer known to hold a violation of it
        # With symmetry, ``states`` holds one canonical representative per orbit (see symmetry.py).
        self.symmetry = symmetry
        self.sym = symmetry.checker(compiled, selected) if symmetry is not None else None
        self.c = compiled
        self.keep_going = keep_going
        self.deadlock = deadlock
        self.bounds = bounds
        self.progress = progress
        self.states: list[int] = []
        self.index: dict[int, int] = {}
        self.parents = array("q")
        self.actions = array("q")
        self.generated = 0
        self.depth = 0
        self.start = time.monotonic()
        self.meter = Meter(bounds)
        # Masks of the properties still to check, by kind; a violated property leaves its mask.
        chosen = set(selected)
        self.inv_active = sum(1 << b for b, p in enumerate(compiled.invariant_props) if p in chosen)
        self.step_active = sum(1 << b for b, p in enumerate(compiled.step_props) if p in chosen)
        self.goal_open = sum(1 << b for b, p in enumerate(compiled.goal_props) if p in chosen)
        self.results: dict[int, PropertyResult] = {}
        self.selected = selected
        self.deadlock_result: PropertyResult | None = None
        self.stop_reason = ""
        self.stopped_early = False

    # -- traces

    def path_to(self, i: int) -> list[tuple[int | None, State]]:
        chain: list[tuple[int | None, int]] = []
        while i >= 0:
            action = int(self.actions[i])
            chain.append((None if action < 0 else action, self.states[i]))
            i = int(self.parents[i])
        chain.reverse()
        if self.sym is not None:
            return self.sym.concretize(chain)  # a real execution through the representatives' orbits
        return [(action, self.spec.unpack(x)) for action, x in chain]

    def step_path(self, i: int, action: int, y: int) -> list[tuple[int | None, State]]:
        """The path to state ``i`` followed by its step to ``y``."""
        path = self.path_to(i)
        if self.sym is not None:
            return path + [self.sym.counterpart_step(self.states[i], self.spec.pack(path[-1][1]), y)]
        return path + [(action, self.spec.unpack(y))]

    def with_trace(self, error: ModelError, i: int) -> ModelError:
        """Attach the trace reaching state ``i`` to a model error found there."""
        error.trace = build_trace(self.spec, self.path_to(i), None, "model-error", str(error.message))
        return error

    def _layers_decided(self) -> bool:
        """With layers: whether every selected invariant and step property is known to be violated in some layer."""
        measured = [p for p in self.selected if self.spec.properties[p].kind in ("invariant", "step")]
        return bool(measured) and all(p in self.layer_violated for p in measured)

    def violation(self, prop: int, kind: str, path: list[tuple[int | None, State]]) -> None:
        p = self.spec.properties[prop]
        if self.layers is not None:
            self.layer_violated.setdefault(prop, self.layer)
            if self.keep_going and all(self.layer_violated.get(q, self.layer + 1) <= self.layer
                                       for q in self.selected if self.spec.properties[q].kind in ("invariant", "step")):
                self.stopped_early = True  # every property is violated in this layer: nothing is left to learn
        trace = build_trace(self.spec, path, p.name, kind)
        self.results[prop] = PropertyResult(p.name, p.kind, VIOLATED, trace)
        if not self.keep_going:
            # The search stops inside the level of the violating state: count that level.
            self.depth = max(self.depth, len(path))
            self.stopped_early = True

    def model_error(self, failure: CheckFailure, i: int, y: int | None = None) -> ModelError:
        """Reproduce a failed check on the reference semantics and attach the trace that reaches it."""
        path = self.path_to(i)
        state = path[-1][1]
        if self.sym is not None and y is not None:
            y = self.sym.image_like(self.states[i], self.spec.pack(state), y)
        error: ModelError
        try:
            if failure.prop >= 0:
                post = self.spec.unpack(y) if y is not None else None
                holds(self.spec, self.spec.properties[failure.prop].name, state, post)
            else:
                fire(self.spec, self.spec.bindings[failure.binding], state)
            error = ModelError("the compiled backend reported a failed check that the reference semantics does not confirm (a bug in ordercheck)")
            if self.sym is not None:
                error = ModelError("a run-time check fails in a state but not in a symmetric one: the model is not symmetric; check it without symmetry",
                                   context="symmetry")
        except ModelError as exc:
            error = exc
        error.model = error.model or self.spec.name
        error.trace = build_trace(self.spec, path, None, "model-error", str(error.message))
        return error

    # -- the search

    def add(self, y: int, parent: int, action: int) -> int:
        i = len(self.states)
        self.index[y] = i
        self.states.append(y)
        self.parents.append(parent)
        self.actions.append(action)
        return i

    def check_state(self, i: int, y: int) -> None:
        if self.sym is not None:
            try:
                self.sym.check_properties(y)
            except CheckFailure as failure:
                raise self.model_error(failure, i) from None
            except ModelError as error:
                raise self.with_trace(error, i) from None
        if self.inv_active:
            try:
                bad = self.c.invariants(y) & self.inv_active
            except CheckFailure as failure:
                raise self.model_error(failure, i) from None
            if bad:
                for bit, prop in enumerate(self.c.invariant_props):
                    if bad >> bit & 1:
                        self.inv_active &= ~(1 << bit)
                        self.violation(prop, "invariant", self.path_to(i))
                        if self.stopped_early:
                            return
        if self.goal_open:
            try:
                reached = self.c.goals(y) & self.goal_open
            except CheckFailure as failure:
                raise self.model_error(failure, i) from None
            if reached:
                self.goal_open &= ~reached

    def run(self) -> Result:
        try:
            self._run()
        except KeyboardInterrupt:
            self.stop_reason = f"interrupted after {len(self.states):,} states at depth {self.depth}"
        except MemoryError:
            self.stop_reason = self.meter.memory_reason(len(self.states), self.depth)
        return self.result()

    def _run(self) -> None:
        b = self.bounds
        for s0 in self.spec.init_states:
            y = self.spec.pack(s0)
            if self.sym is not None:
                y = self.sym.initial(y)
            self.generated += 1
            if self.layers is not None and self.layers.of(y) > 0:
                raise InputError("a layered search starts from initial states in layer 0")
            if y not in self.index:
                if b.max_states is not None and len(self.states) >= b.max_states:
                    self.stop_reason = f"state bound {b.max_states:,} reached among the initial states"
                    return
                self.check_state(self.add(y, -1, -1), y)
                if self.stopped_early:
                    return
            if (self.generated & 1023) == 0:
                reason = self.meter.exceeded(len(self.states), self.depth)
                if reason is not None:
                    self.stop_reason = reason
                    return
        level_start, level_end = 0, len(self.states)
        self.depth = 1 if level_end else 0
        next_report = time.monotonic() + 2.0
        successors, steps = self.c.successors, self.c.steps
        layer_of = self.layers.of if self.layers is not None else None
        pending: dict[int, tuple[int, int]] = {}  # with layers: states of the next layer, with their parent and binding
        while level_start < level_end:
            at_depth_bound = b.max_depth is not None and self.depth >= b.max_depth
            for i in range(level_start, level_end):
                x = self.states[i]
                try:
                    succ = successors(x)
                except CheckFailure as failure:
                    raise self.model_error(failure, i) from None
                if self.sym is not None:
                    try:
                        keys = self.sym.expand(x, succ)
                    except ModelError as error:
                        raise self.with_trace(error, i) from None
                self.generated += len(succ)
                if not succ and self.deadlock and self.deadlock_result is None:
                    trace = build_trace(self.spec, self.path_to(i), None, DEADLOCK, "Deadlock: no action is enabled")
                    self.deadlock_result = PropertyResult(DEADLOCK, DEADLOCK, VIOLATED, trace)
                    if not self.keep_going:
                        self.stopped_early = True
                        return
                for n, (action, y) in enumerate(succ):
                    later = layer_of is not None and layer_of(y) > self.layer
                    if self.step_active:
                        try:
                            bad = steps(x, y) & self.step_active
                        except CheckFailure as failure:
                            raise self.model_error(failure, i, y) from None
                        if bad and later:  # a violation in the next layer: this one is finished first
                            for bit, prop in enumerate(self.c.step_props):
                                if bad >> bit & 1:
                                    self.layer_violated.setdefault(prop, self.layer + 1)
                        elif bad:
                            for bit, prop in enumerate(self.c.step_props):
                                if bad >> bit & 1:
                                    self.step_active &= ~(1 << bit)
                                    self.violation(prop, "step", self.step_path(i, action, y))
                                    if self.stopped_early:
                                        return
                    if self.sym is not None:
                        y = keys[n]
                    if later:
                        if y not in pending:
                            pending[y] = (i, action)
                        continue
                    if y in self.index:
                        continue
                    if at_depth_bound:
                        self.stop_reason = f"depth bound {b.max_depth} reached with states still unexplored beyond it"
                        return
                    if b.max_states is not None and len(self.states) >= b.max_states:
                        self.stop_reason = f"state bound {b.max_states:,} reached at depth {self.depth}"
                        return
                    j = self.add(y, i, action)
                    self.check_state(j, y)
                    if self.stopped_early:
                        return
                if (i & 15) == 0:
                    reason = self.meter.exceeded(len(self.states), self.depth)
                    if reason is not None:
                        self.stop_reason = reason
                        return
                    if self.progress is not None and (i & 1023) == 0:
                        now = time.monotonic()
                        if now >= next_report:
                            next_report = now + 2.0
                            self.progress(self.stats(level_end - i))
            level_start, level_end = level_end, len(self.states)
            if level_end == level_start and layer_of is not None:
                # this layer is explored; go on with the states of the next one (see explore's ``layers``)
                self.layer_done = self.layer
                if self._layers_decided() or not pending or self.layer >= self.layers.last:  # type: ignore[union-attr]
                    return
                self.layer += 1
                later_ones: dict[int, tuple[int, int]] = {}
                for y, (parent, action) in pending.items():
                    if layer_of(y) > self.layer:
                        later_ones[y] = (parent, action)
                        continue
                    if y in self.index:
                        continue
                    if b.max_states is not None and len(self.states) >= b.max_states:
                        self.stop_reason = f"state bound {b.max_states:,} reached at depth {self.depth}"
                        return
                    self.check_state(self.add(y, parent, action), y)
                    if self.stopped_early:
                        return
                    if (len(self.states) & 15) == 0:
                        reason = self.meter.exceeded(len(self.states), self.depth)
                        if reason is not None:
                            self.stop_reason = reason
                            return
                pending = later_ones
                level_end = len(self.states)
            if level_end > level_start:
                self.depth += 1

    def stats(self, queue: int = 0) -> Stats:
        return Stats(len(self.states), self.generated, self.depth, time.monotonic() - self.start, queue)

    def result(self) -> Result:
        props: list[PropertyResult] = []
        complete = not self.stop_reason and not self.stopped_early
        for prop in self.selected:
            p = self.spec.properties[prop]
            if prop in self.results:
                props.append(self.results[prop])
                continue
            if p.kind == "sometimes":
                bit = self.c.goal_props.index(prop)
                if not (self.goal_open >> bit) & 1:
                    props.append(PropertyResult(p.name, p.kind, HOLDS, reason="a state satisfying the goal is reachable"))
                elif complete:
                    props.append(PropertyResult(p.name, p.kind, VIOLATED, reason="no reachable state satisfies the goal"))
                else:
                    props.append(PropertyResult(p.name, p.kind, INCONCLUSIVE, reason=self._why_incomplete()))
            elif complete:
                props.append(PropertyResult(p.name, p.kind, HOLDS))
            else:
                props.append(PropertyResult(p.name, p.kind, INCONCLUSIVE, reason=self._why_incomplete()))
        if self.deadlock:
            if self.deadlock_result is not None:
                props.append(self.deadlock_result)
            else:
                props.append(PropertyResult(DEADLOCK, DEADLOCK, HOLDS if complete else INCONCLUSIVE,
                                            reason="" if complete else self._why_incomplete()))
        extra: dict[str, object] = {"derived_constants": self.spec.derived}
        if self.sym is not None:
            extra["symmetry"] = self.sym.info()
        if self.layers is not None:
            extra["layers"] = {"complete": self.layer_done,
                               "violated": {self.spec.properties[p].name: layer for p, layer in sorted(self.layer_violated.items())}}
        return Result(self.spec.name, dict(self.spec.constants), "explicit", props, self.stats(), self.stop_reason, extra)

    def _why_incomplete(self) -> str:
        if self.stop_reason:
            return self.stop_reason
        return "not checked to the end: the search stopped at the first violation (check with keep_going=True / --continue)"


def explore(spec: Spec, *, properties: list[str] | None = None, keep_going: bool = False, deadlock: bool = False,
            bounds: Bounds | None = None, progress: Callable[[Stats], None] | None = None,
            compiled: CompiledSpec | None = None, symmetry: Symmetry | None = None, layers: Layers | None = None) -> Result:
    """Explore every reachable state of ``spec`` breadth first and check the selected properties.

    Stops at the first violation unless ``keep_going``; each violated property
    gets a shortest counterexample, replayed on the reference semantics.
    Raises :class:`~ordercheck.lang.errors.ModelError` (with a trace) when a
    reachable step makes a model error.

    With ``symmetry`` (:func:`~ordercheck.explicit.symmetry.build_symmetry`)
    one representative per orbit is stored, so ``distinct_states`` counts
    orbits; the model is proved symmetric from its IR or checked on every state explored (a
    :class:`~ordercheck.lang.errors.ModelError` if it is not), and
    counterexamples are real executions of the unreduced model.

    With ``layers`` (:class:`Layers`) the states are explored layer by layer; the search
    stops after the first layer holding a violation (a step into the next layer counts for the
    next layer, which is then not explored), and ``result.extra["layers"]`` gives the last
    layer explored completely (``complete``) and the first layer known to be violated
    (``violated``: property name -> layer; with ``keep_going`` the search goes on until every
    invariant and step property selected is violated in some layer).  Depths and traces are then those of this layered order, not
    shortest ones: :mod:`ordercheck.tolerance` uses it to find the fewest faults that break
    a property in one search, and takes the trace from a plain search at that budget.
    """
    selected = select_properties(spec, properties)
    search = _Search(spec, compiled or compile_spec(spec), selected, keep_going, deadlock, bounds or Bounds(), progress, symmetry,
                     layers)
    return search.run()
