"""Small-number suppression (kyosei/disclosure.py)."""

from kyosei.disclosure import COMPLEMENT, SMALL, suppress_breakdown


def rows(*counts):
    return [
        {"name": f"r{i}", "count": c, "total": c * 1000} for i, c in enumerate(counts)
    ]


def hidden(result):
    return [r["hidden"] for r in result]


def test_nothing_small_nothing_hidden():
    result = suppress_breakdown(rows(5, 9, 30))
    assert hidden(result) == ["", "", ""]
    assert [r["total"] for r in result] == [5000, 9000, 30000]


def test_one_small_row_takes_the_smallest_other_row_with_it():
    result = suppress_breakdown(rows(30, 1, 6, 9))
    assert hidden(result) == ["", SMALL, COMPLEMENT, ""]
    assert result[1]["total"] is None and result[1]["count"] is None
    assert result[2]["total"] is None and result[2]["count"] is None


def test_small_rows_that_together_reach_five_need_no_complement():
    assert hidden(suppress_breakdown(rows(2, 3, 40))) == [SMALL, SMALL, ""]


def test_complement_until_the_hidden_rows_reach_five():
    # 1 + 1 < 5: the smallest shown row (5) is hidden too; 50 stays.
    assert hidden(suppress_breakdown(rows(1, 1, 5, 50))) == [
        SMALL,
        SMALL,
        COMPLEMENT,
        "",
    ]


def test_input_rows_are_not_changed():
    original = rows(1, 10)
    suppress_breakdown(original)
    assert original[0]["total"] == 1000 and "hidden" not in original[0]
