from reviewer.highlight import Span, segments


def test_the_text_is_cut_at_every_quote_and_overlapping_quotes_share_the_overlap():
    text = "alpha beta gamma delta"
    found = segments(text, [Span(id="a", start=6, end=16), Span(id="b", start=11, end=22)])
    assert "".join(s.text for s in found) == text
    assert [(s.text, s.marks, s.anchors) for s in found] == [
        ("alpha ", [], []),
        ("beta ", ["a"], ["a"]),
        ("gamma", ["a", "b"], ["b"]),
        (" delta", ["b"], []),
    ]


def test_offsets_that_do_not_fit_the_text_are_left_out():
    found = segments("short", [Span(id="a", start=2, end=99), Span(id="b", start=3, end=3)])
    assert [(s.text, s.marks) for s in found] == [("short", [])]
    assert [(s.text, s.marks) for s in segments("", [])] == [("", [])]
