from reviewer.evaluation.intervals import bootstrap_intervals
from reviewer.evaluation.metrics import Prediction
from reviewer.review import Grade

M, X, R = Grade.MET, Grade.MISSING, Grade.RED_FLAG
GRADES = [M, X, R]


def document(document_id: str, right: int, wrong: int) -> list[Prediction]:
    def label(n: int, predicted: Grade) -> Prediction:
        return Prediction(document_id=document_id, criterion_id=f"c{n}", gold_grade=M, predicted_grade=predicted)

    return [label(n, M) for n in range(right)] + [label(right + n, R) for n in range(wrong)]


def test_two_documents_one_all_right_one_all_wrong_span_the_whole_range():
    # resampling two documents gives both twice a quarter of the time each: accuracy 1 or 0
    intervals = bootstrap_intervals(document("a", 9, 0) + document("b", 0, 9), GRADES)
    assert (intervals.accuracy.low, intervals.accuracy.high) == (0.0, 1.0)
    assert intervals.documents == 2 and intervals.confidence == 0.95


def test_documents_of_equal_accuracy_leave_no_uncertainty_to_resample():
    predictions = [p for name in "abcde" for p in document(name, 2, 2)]
    intervals = bootstrap_intervals(predictions, GRADES)
    assert (intervals.accuracy.low, intervals.accuracy.high) == (0.5, 0.5)


def test_the_resampling_unit_is_the_document_not_the_label():
    # the same 45 right and 45 wrong labels: in ten documents of nine labels that move together, or
    # as ninety one-label documents; the first says much less, so its interval is wider
    grouped = [p for n in range(5) for p in document(f"right{n}", 9, 0) + document(f"wrong{n}", 0, 9)]
    single = [p for n in range(45) for p in document(f"right{n}", 1, 0) + document(f"wrong{n}", 0, 1)]
    wide, narrow = bootstrap_intervals(grouped, GRADES), bootstrap_intervals(single, GRADES)
    assert wide.accuracy.low < narrow.accuracy.low < 0.5 < narrow.accuracy.high < wide.accuracy.high
    assert wide.accuracy.high - wide.accuracy.low > 1.5 * (narrow.accuracy.high - narrow.accuracy.low)


def test_the_same_predictions_give_the_same_interval_and_it_holds_the_measured_value():
    predictions = [p for n in range(12) for p in document(f"d{n}", n % 4 + 1, 3)]
    first, second = bootstrap_intervals(predictions, GRADES), bootstrap_intervals(predictions, GRADES)
    assert first == second
    accuracy = sum(p.predicted_grade is p.gold_grade for p in predictions) / len(predictions)
    assert first.accuracy.low < accuracy < first.accuracy.high
    assert 0.0 <= first.macro_f1.low <= first.macro_f1.high <= 1.0


def test_nothing_to_resample_gives_no_interval():
    assert bootstrap_intervals([], GRADES) is None
