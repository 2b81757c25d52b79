from reviewer.cleanup import clean_page_text, expand_ligatures, join_hyphenated_lines, normalise_whitespace


def test_ligatures_are_expanded():
    assert expand_ligatures("ﬁne-tuning ﬂow eﬃcient") == "fine-tuning flow efficient"


def test_hyphenation_at_line_end_is_joined_between_lowercase_letters():
    assert join_hyphenated_lines("the evalu-\nation set") == "the evaluation set"


def test_hyphen_before_capital_or_digit_is_kept():
    assert join_hyphenated_lines("COVID-\n19 and A-\nB") == "COVID-\n19 and A-\nB"


def test_whitespace_runs_collapse_and_blank_lines_are_bounded():
    assert normalise_whitespace("  a \t b\u00a0c  \n\n\n\n d  ") == "a b c\n\nd"


def test_invisible_characters_and_soft_hyphens_are_removed():
    assert clean_page_text("con\u00adtract\u200b terms") == "contract terms"


def test_clean_page_text_applies_every_step():
    assert clean_page_text("Our eﬃ-\n ciency  ﬁgures\r\nare  high") == "Our efficiency figures\nare high"
