from reviewer.review import Finding, FindingFlag, Grade, Verdict, finding_points, overall_score, verdict_for


def finding(grade: Grade | None, weight: float, flags=(), score=None) -> Finding:
    return Finding(
        criterion_id="c",
        title="C",
        kind="vendor",
        weight=weight,
        grade=grade,
        score=score if grade is None else finding_points(grade, list(flags)),
        flags=list(flags),
    )


def test_points_per_grade():
    assert finding_points(Grade.MET, []) == 1.0
    assert finding_points(Grade.PARTIAL, []) == 0.5
    assert finding_points(Grade.MISSING, []) == 0.0
    assert finding_points(Grade.RED_FLAG, []) == 0.0


def test_unsupported_grade_earns_no_points():
    assert finding_points(Grade.MET, [FindingFlag.UNSUPPORTED]) == 0.0


def test_overall_score_is_the_weighted_mean_on_a_0_to_100_scale():
    findings = [finding(Grade.MET, 3), finding(Grade.PARTIAL, 2), finding(Grade.RED_FLAG, 1)]
    assert overall_score(findings) == round(100 * (3 * 1 + 2 * 0.5 + 0) / 6, 1)


def test_criteria_that_failed_to_grade_are_left_out_of_the_score():
    findings = [finding(Grade.MET, 3), finding(None, 5)]
    assert overall_score(findings) == 100.0
    assert overall_score([finding(None, 1)]) is None


def test_same_findings_give_the_same_score_every_time():
    findings = [finding(Grade.PARTIAL, 2), finding(Grade.MET, 1)]
    assert {overall_score(findings) for _ in range(5)} == {66.7}


def test_verdicts():
    assert verdict_for(90, red_flags=0, errors=0) is Verdict.STRONG
    assert verdict_for(90, red_flags=1, errors=0) is Verdict.RED_FLAGS
    assert verdict_for(60, red_flags=0, errors=0) is Verdict.NEEDS_CLARIFICATION
    assert verdict_for(20, red_flags=0, errors=0) is Verdict.WEAK
    assert verdict_for(90, red_flags=0, errors=1) is Verdict.INCOMPLETE
