from hypothesis import given
from hypothesis import strategies as st

from arrears.kernel.allocation import allocate
from arrears.kernel.terms import PENALTY_FIRST, PRINCIPAL_FIRST, Component

P, C, INT, PR = Component.PENALTY, Component.COMPOUND, Component.INTEREST, Component.PRINCIPAL


def test_penalty_first_waterfall_inside_one_instalment():
    result = allocate(100, [(1, {P: 30, INT: 50, PR: 200})], PENALTY_FIRST)
    assert [(line.component, line.amount) for line in result.lines] == [
        (P, 30),
        (INT, 50),
        (PR, 20),
    ]
    assert result.remainder == 0


def test_oldest_instalment_is_served_first_and_the_rest_is_remainder():
    owed = [(1, {P: 5, INT: 10, PR: 100}), (2, {INT: 10, PR: 100})]
    result = allocate(300, owed, PRINCIPAL_FIRST)
    assert [(line.seq, line.component, line.amount) for line in result.lines] == [
        (1, PR, 100),
        (1, INT, 10),
        (1, P, 5),
        (2, PR, 100),
        (2, INT, 10),
    ]
    assert result.remainder == 75


owed_maps = st.fixed_dictionaries({c: st.integers(0, 10_000) for c in (P, C, INT, PR)})


@given(
    st.integers(0, 100_000),
    st.lists(owed_maps, max_size=8),
    st.sampled_from([PENALTY_FIRST, PRINCIPAL_FIRST]),
)
def test_parts_always_sum_to_the_payment_and_never_exceed_what_is_owed(amount, owed, order):
    outstanding = list(enumerate(owed, start=1))
    result = allocate(amount, outstanding, order)
    assert result.allocated + result.remainder == amount
    for line in result.lines:
        assert 0 < line.amount <= owed[line.seq - 1][line.component]
    if result.remainder:
        assert result.allocated == sum(sum(o.values()) for o in owed)
