"""Data independence in orders (ordercheck.lang.independence), checked against the explicit engine.

Where the analysis says the protocol treats orders independently, the explicit engine gives every
property the same verdict with one order as with two and three; where it says an action reads two
orders together, a model is shown whose verdict changes with the number of orders.
"""

from __future__ import annotations

import textwrap

import pytest
from test_cli import run_cli

from ordercheck import Const, Elem, Model, SetOf, Var, action, check, invariant, require, sometimes, spec_of
from ordercheck.design import load_design
from ordercheck.lang.independence import order_independence


class Queue(Model):
    ORDER = Const(("o1", "o2"))
    sent = Var(SetOf(ORDER), init=())
    got = Var(SetOf(ORDER), init=())

    @action(o=ORDER)
    def send(s, o):
        require(~s.sent.has(o))
        s.sent = s.sent.add(o)

    @action(o=ORDER)
    def receive(s, o):
        require(s.sent.has(o))
        s.got = s.got.add(o)

    @action()
    def lose_everything(s):  # a fault: every order alike
        s.sent = s.sent & s.got

    @invariant
    def only_sent(s):
        return s.got <= s.sent

    @invariant
    def nothing_received(s):
        return s.got.is_empty()

    @sometimes
    def something_received(s):
        return ~s.got.is_empty()


class Batch(Queue):
    """Acknowledges only in batches of two: an action that counts the orders."""

    acked = Var(SetOf(Queue.ORDER), init=())

    @action()
    def ack_batch(s):
        require(s.sent.count() >= 2)
        s.acked = s.sent

    @sometimes
    def something_acked(s):
        return ~s.acked.is_empty()


class Latest(Queue):
    last = Var(Elem(Queue.ORDER), init="o1")

    @action(o=Queue.ORDER)
    def note(s, o):
        s.last = o


class Favourite(Queue):
    @action(o=Queue.ORDER)
    def priority(s, o):
        require(o != "o1")  # a literal order: o2 may do what o1 may not
        s.got = s.got.add(o)


def verdicts(model):
    return {p.name: p.verdict for p in check(model, engine="explicit", keep_going=True).properties}


def test_an_independent_protocol_has_the_same_verdicts_for_any_number_of_orders():
    found = order_independence(spec_of(Queue()))
    assert found.independent and not found.reasons
    assert set(found.properties) == {"only_sent", "nothing_received", "something_received"}
    assert "holds for any number of orders" in str(found)
    one, two, three = (verdicts(Queue(ORDER=orders)) for orders in (("o1",), ("o1", "o2"), ("o1", "o2", "o3")))
    assert one == two == three == {"only_sent": "holds", "nothing_received": "violated", "something_received": "holds"}


def test_an_action_that_counts_orders_is_named_and_the_verdict_does_change():
    found = order_independence(spec_of(Batch()))
    assert not found.independent
    assert found.reasons == ("ack_batch() reads several orders together: it counts the orders in sent",)
    # the explicit engine shows why it matters: with one order nothing is ever acknowledged
    assert verdicts(Batch(ORDER=("o1",)))["something_acked"] == "violated"
    assert verdicts(Batch(ORDER=("o1", "o2")))["something_acked"] == "holds"


def test_a_variable_holding_an_order_is_not_independent():
    found = order_independence(spec_of(Latest()))
    assert not found.independent
    assert "note(o='o1') changes the shared last" in found.reasons[0]


def test_a_literal_order_in_an_action_is_not_independent():
    found = order_independence(spec_of(Favourite()))
    assert not found.independent and "priority has no step for o1" in found.reasons[0]


def test_a_property_about_two_orders_is_left_out():
    class Pair(Queue):
        @invariant
        def together(s):
            return s.got.has("o1") == s.got.has("o2")

    found = order_independence(spec_of(Pair()))
    assert found.independent
    assert "together" not in found.properties and "only_sent" in found.properties
    assert any(r.startswith("together relates the data of o1, o2") for r in found.reasons)


DESIGN = """
name = "two copies"
orders = {orders}
[[node]]
name = "db1"
role = "primary"
[[node]]
name = "db2"
role = "replica"
replication = "sync"
[[node]]
name = "db3"
role = "replica"
replication = "sync"
[protocol]
family = "replicated-log"
ack = "primary.disk and 1 of sync.disk"
promote = "{promote}"
log_order = {log_order}
[check]
faults = {{ kinds = ["crash", "disk-loss"], budget = 1 }}
[[check.property]]
kind = "never_lost"
[[check.property]]
kind = "visible_after_failover"
"""


def _design(tmp_path, orders, promote, log_order=False):
    # log_order = false: orders replicate independently (no shared log), the setting the argument applies to
    path = tmp_path / f"d-{orders}-{promote}-{log_order}.toml"
    path.write_text(textwrap.dedent(DESIGN.format(orders=orders, promote=promote, log_order=str(log_order).lower())))
    return load_design(path)


def test_a_shared_log_makes_orders_depend_on_each_other(tmp_path):
    # With log_order (the default) an order's position depends on the orders before it: not independent.
    found = order_independence(spec_of(_design(tmp_path, 2, "any", log_order=True).model()))
    assert not found.independent
    assert any("log" in reason for reason in found.reasons)


@pytest.mark.parametrize("promote", ["any"])
def test_a_design_whose_orders_are_independent_keeps_its_verdicts_with_more_orders(tmp_path, promote):
    found = order_independence(spec_of(_design(tmp_path, 2, promote).model()))
    assert found.independent and not found.reasons
    one, two = (verdicts(_design(tmp_path, n, promote).model()) for n in (1, 2))
    assert one == two


def test_most_up_to_date_failover_reads_two_orders_together(tmp_path):
    found = order_independence(spec_of(_design(tmp_path, 2, "most-up-to-date").model()))
    assert not found.independent
    assert found.reasons[0].startswith("promote(n=") and "counts the orders" in found.reasons[0]


def test_the_cli_flag_says_so_and_analyses_a_one_order_design_with_two(tmp_path):
    d = _design(tmp_path, 1, "any")
    _, out, _ = run_cli("check", d.path, "--independence")
    assert "orders: ORDER: no action reads two orders together" in out
    assert "(analysed with 2 orders)" in out
    d = _design(tmp_path, 1, "most-up-to-date")
    _, out, _ = run_cli("check", d.path, "--independence")
    assert "orders: ORDER: not shown independent: promote(n=" in out


def test_a_model_without_orders_says_so():
    class Plain(Model):
        NODE = Const(("a", "b"))
        x = Var(Elem(NODE), init="a")

    assert order_independence(spec_of(Plain())).reasons == ("model Plain has no constant ORDER",)


def test_a_fault_that_treats_one_order_apart_is_not_independent():
    class Spare(Queue):
        @action()
        def restore_o1(s):
            s.sent = s.sent | {"o1"}

    found = order_independence(spec_of(Spare()))
    assert not found.independent and found.reasons == ("restore_o1() names a particular order",)
