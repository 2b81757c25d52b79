import json
from pathlib import Path

import httpx2
import pytest

from reviewer.cli import main
from reviewer.errors import BadInputError, ConfigurationError, ReviewerError
from reviewer.evaluation.datasets import EvidenceSpan, load_contractnli, load_samples
from reviewer.evaluation.metrics import PredictedQuote, Prediction, compute_metrics, evidence_recall
from reviewer.evaluation.runner import evaluate, evaluate_in_batch
from reviewer.grading.anthropic_backend import AnthropicBackend
from reviewer.grading.offline import OfflineBackend
from reviewer.review import Grade
from tests.fake_anthropic import FakeAnthropic, FakeBatchAPI, message_response, requested_ids

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
M, P, X, R = Grade.MET, Grade.PARTIAL, Grade.MISSING, Grade.RED_FLAG


def pred(gold: Grade, predicted: Grade | None, quotes=(), evidence=()) -> Prediction:
    return Prediction(
        document_id="d",
        criterion_id="c",
        gold_grade=gold,
        predicted_grade=predicted,
        quotes=list(quotes),
        gold_evidence=list(evidence),
    )


def quote(start: int, end: int, verified: bool = True, page: int = 1) -> PredictedQuote:
    return PredictedQuote(
        page=page, quote="q" * 20, verified=verified, start=start if verified else None, end=end if verified else None
    )


def test_accuracy_per_grade_scores_macro_f1_and_confusion_on_a_hand_made_case():
    predictions = [pred(M, M), pred(M, M), pred(M, P), pred(X, X), pred(R, M), pred(X, None)]
    metrics = compute_metrics(predictions, [M, P, X, R])
    assert metrics.accuracy == round(3 / 6, 4)
    assert metrics.errors == 1
    met = metrics.per_grade["met"]
    assert (met.precision, met.recall, met.support) == (round(2 / 3, 4), round(2 / 3, 4), 3)
    assert met.f1 == round(2 / 3, 4)
    assert metrics.per_grade["missing"].precision == 1.0 and metrics.per_grade["missing"].recall == 0.5
    assert metrics.per_grade["partial"].f1 == 0.0 and metrics.per_grade["red_flag"].f1 == 0.0
    assert metrics.macro_f1 == round((2 / 3 + 0 + 2 / 3 + 0) / 4, 4)
    assert metrics.confusion["met"] == {"met": 2, "partial": 1}
    assert metrics.confusion["missing"] == {"missing": 1, "error": 1}
    assert metrics.confusion["partial"] == {}


def test_macro_f1_is_over_the_rubrics_grades_only():
    predictions = [pred(M, M), pred(X, X), pred(R, R)]
    assert compute_metrics(predictions, [M, X, R]).macro_f1 == 1.0


def test_evidence_recall_counts_labels_whose_gold_span_a_verified_quote_overlaps():
    span = [EvidenceSpan(page=1, start=100, end=200)]
    predictions = [
        pred(M, M, [quote(150, 250)], span),  # overlaps
        pred(M, M, [quote(0, 50), quote(190, 210)], span),  # second quote overlaps
        pred(R, R, [quote(100, 200, verified=False)], span),  # unverified never counts
        pred(M, M, [quote(150, 180, page=2)], span),  # other page
        pred(X, X, [], []),  # missing: not in the denominator
    ]
    assert evidence_recall(predictions) == 2 / 4
    assert evidence_recall(predictions, k=1) == 1 / 4
    metrics = compute_metrics(predictions, [M, P, X, R])
    assert metrics.citation_validity == 4 / 5


CONTRACT = (
    "Mutual NDA. The Receiving Party shall not reverse engineer any samples or prototypes. "
    "Confidential Information includes business and financial information. "
    "The obligations of this Agreement survive termination for three years."
)


def contractnli_file(tmp_path, labels=None):
    def span_of(text):
        start = CONTRACT.index(text)
        return [start, start + len(text)]

    spans = [
        span_of("The Receiving Party shall not reverse engineer any samples or prototypes."),
        span_of("Confidential Information includes business and financial information."),
    ]
    data = {
        "labels": labels or {"nda-11": {"short_description": "No reverse engineering", "hypothesis": "h"}},
        "documents": [
            {
                "id": 7,
                "file_name": "nda.txt",
                "text": CONTRACT,
                "spans": spans,
                "annotation_sets": [
                    {
                        "annotations": {
                            "nda-11": {"choice": "Entailment", "spans": [0]},
                            "nda-2": {"choice": "Contradiction", "spans": [1]},
                            "nda-18": {"choice": "NotMentioned", "spans": []},
                        }
                    }
                ],
            }
        ],
    }
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(data))
    return path


def test_contractnli_loader_maps_choices_to_grades_and_locates_gold_evidence(tmp_path):
    labelled = load_contractnli(contractnli_file(tmp_path))
    assert labelled.rubric.id == "contractnli_nda" and len(labelled.rubric.criteria) == 17
    [item] = list(labelled.documents())
    assert item.document_id == "7" and item.document.source == "text"
    grades = {label.criterion_id: label.grade for label in item.labels}
    assert grades == {"no_reverse_engineering": M, "only_technical_information": R, "no_solicitation": X}
    reverse = next(label for label in item.labels if label.criterion_id == "no_reverse_engineering")
    [span] = reverse.evidence
    assert item.document.pages[0].text[span.start : span.end].startswith("The Receiving Party shall not reverse")


def test_contractnli_loader_refuses_unknown_hypotheses_and_unreadable_files(tmp_path):
    with pytest.raises(BadInputError, match="unknown ContractNLI hypotheses"):
        load_contractnli(contractnli_file(tmp_path, labels={"nda-99": {}}))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(BadInputError, match="not a readable ContractNLI split"):
        load_contractnli(bad)


def test_samples_set_has_every_label_and_locates_every_gold_quote():
    labelled = load_samples()
    items = list(labelled.documents())
    assert labelled.size == len(items) >= 6
    for item in items:
        assert len(item.labels) == 9
        for label in item.labels:
            assert bool(label.evidence) == (label.grade is not Grade.MISSING)


def test_eval_command_writes_predictions_and_gates_on_accuracy(tmp_path, capsys):
    dataset = contractnli_file(tmp_path)
    predictions = tmp_path / "predictions.jsonl"
    code = main(
        [
            "eval",
            "--contractnli",
            str(dataset),
            "--backend",
            "offline",
            "--no-progress",
            "--predictions",
            str(predictions),
            "--format",
            "json",
            "--min-accuracy",
            "0",
        ]
    )
    out, _ = capsys.readouterr()
    assert code == 0
    [report] = json.loads(out)
    assert report["metrics"]["labels"] == 3 and report["offline"] is True
    accuracy, interval = report["metrics"]["accuracy"], report["intervals"]["accuracy"]
    assert interval["low"] <= accuracy <= interval["high"] and report["intervals"]["documents"] == 1
    lines = [json.loads(line) for line in predictions.read_text().splitlines()]
    assert len(lines) == 3
    assert {"document_id", "criterion_id", "predicted_grade", "gold_grade", "quotes"} <= set(lines[0])

    code = main(["eval", "--contractnli", str(dataset), "--backend", "offline", "--no-progress", "--min-accuracy", "1"])
    _, err = capsys.readouterr()
    assert code == 1 and "below the bar" in err


def test_eval_limit_takes_the_first_documents(capsys):
    code = main(["eval", "--samples", "--backend", "offline", "--no-progress", "--limit", "2", "--format", "json"])
    [report] = json.loads(capsys.readouterr().out)
    assert code == 0 and report["documents"] == 2 and report["metrics"]["labels"] == 18


def test_eval_table_gives_the_accuracy_with_its_interval_over_documents(capsys):
    code = main(["eval", "--samples", "--backend", "offline", "--no-progress", "--limit", "3"])
    out = capsys.readouterr().out
    assert code == 0
    [accuracy_line] = [line for line in out.splitlines() if "grade accuracy" in line]
    assert "95% interval" in accuracy_line
    low, high = (float(x) for x in accuracy_line.split("interval")[1].split("-"))
    assert low <= float(accuracy_line.split()[2]) <= high
    assert "bootstrap over the 3 documents" in out


def test_eval_of_the_claude_backend_scores_its_answers_and_reports_tokens_and_cost(tmp_path, settings):
    answers = {
        "no_reverse_engineering": ("met", "shall not reverse engineer any samples"),
        "only_technical_information": ("met", "includes business and financial information"),
    }

    def answer(body, _):
        findings = []
        for cid in requested_ids(body):
            grade, quote = answers.get(cid, ("missing", None))
            findings.append(
                {
                    "criterion_id": cid,
                    "grade": grade,
                    "rationale": "Scripted.",
                    "citations": [{"page": 1, "quote": quote}] if quote else [],
                    "clarification_question": None,
                }
            )
        return message_response({"findings": findings, "vendor_name": None})

    fake = FakeAnthropic(answer)
    backend = AnthropicBackend(settings, client=fake.client())
    report, predictions = evaluate(load_contractnli(contractnli_file(tmp_path)), backend, show_progress=False)

    assert report.backend == "anthropic" and not report.offline and report.model == settings.anthropic.model
    graded = {p.criterion_id: p.predicted_grade for p in predictions}
    assert graded == {"no_reverse_engineering": M, "only_technical_information": M, "no_solicitation": X}
    assert report.metrics.accuracy == pytest.approx(2 / 3, abs=1e-4)
    assert report.metrics.evidence_recall_at[1] == 1.0 and report.metrics.citation_validity == 1.0
    assert report.usage.calls == len(fake.requests) > 0
    assert report.tokens_per_document == report.usage.input_tokens + report.usage.output_tokens
    assert (
        report.cost_per_document_usd == pytest.approx(report.usage.estimated_cost_usd)
        and report.cost_per_document_usd > 0
    )


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--concurrency", "0"], "--concurrency must be at least 1"),
        (["--limit", "0"], "--limit must be at least 1"),
        (["--min-accuracy", "1.5"], "--min-accuracy must be between 0 and 1"),
        (["--min-macro-f1", "-0.1"], "--min-macro-f1 must be between 0 and 1"),
    ],
)
def test_eval_refuses_impossible_options_with_one_line_and_exit_2(capsys, option, message):
    code = main(["eval", "--samples", "--backend", "offline", "--no-progress", *option])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    [line] = err.strip().splitlines()
    assert line.startswith(f"reviewer: error: {message}")


def annotation(document):
    return document["annotation_sets"][0]["annotations"]["nda-11"]


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda doc: doc.pop("text"), "documents.0.text: Field required"),
        (lambda doc: doc["annotation_sets"][0]["annotations"]["nda-11"].update(choice="Maybe"), "choice"),
        (
            lambda doc: doc["annotation_sets"][0]["annotations"]["nda-11"].update(spans=[5]),
            "span index is out of range",
        ),
        (lambda doc: doc.update(spans=[[0, 10_000]]), "outside the text"),
        (lambda doc: doc.update(annotation_sets=[]), "annotation_sets"),
    ],
)
def test_a_malformed_contractnli_document_is_refused_at_load_naming_the_field(tmp_path, breakage, message):
    path = contractnli_file(tmp_path)
    data = json.loads(path.read_text())
    breakage(data["documents"][0])
    path.write_text(json.dumps(data))
    with pytest.raises(BadInputError, match="not a ContractNLI split") as refused:
        load_contractnli(path)
    assert message in str(refused.value)


def labelled_folder(tmp_path, labels_yaml: str, pdfs=("helix_systems.pdf",)):
    folder = tmp_path / "earlier-rfp"
    folder.mkdir()
    for name in pdfs:
        (folder / name).write_bytes((SAMPLES / name).read_bytes())
    (folder / "labels.yaml").write_text(labels_yaml)
    return folder


def test_eval_reads_a_buyers_own_labelled_folder(tmp_path, capsys):
    folder = labelled_folder(
        tmp_path,
        "rubric: ai_vendor_checklist\n"
        "documents:\n"
        "  helix_systems.pdf:\n"
        "    labels:\n"
        "      data_safety: {grade: met, page: 2, quote: 'Data is encrypted at rest'}\n"
        "      handover: {grade: partial}\n",
    )
    predictions = tmp_path / "p.jsonl"
    options = ["--backend", "offline", "--no-progress", "--format", "json", "--predictions", str(predictions)]
    code = main(["eval", "--labelled", str(folder), *options])
    [report] = json.loads(capsys.readouterr().out)
    assert code == 0 and report["dataset"] == "labelled:earlier-rfp" and report["rubric_id"] == "ai_vendor_checklist"
    assert report["documents"] == 1 and report["metrics"]["labels"] == 2
    lines = [json.loads(line) for line in predictions.read_text().splitlines()]
    assert {(x["criterion_id"], x["gold_grade"]) for x in lines} == {("data_safety", "met"), ("handover", "partial")}


@pytest.mark.parametrize(
    ("labels_yaml", "message"),
    [
        ("documents:\n  helix_systems.pdf:\n    labels:\n      handovr: {grade: met}\n", "criterion 'handovr' is not"),
        ("documents:\n  other.pdf:\n    labels:\n      handover: {grade: met}\n", "other.pdf: no such file"),
        ("documents:\n  helix_systems.pdf:\n    labels:\n      handover: {grade: maybe}\n", "handover.grade"),
        ("documents:\n  helix_systems.pdf:\n    labels:\n      handover: {grade: met, quote: x}\n", "needs the page"),
        (
            "rubric: contractnli\ndocuments:\n  helix_systems.pdf:\n    labels:\n"
            "      no_licensing: {grade: partial}\n",
            "grade 'partial' is not used by rubric contractnli_nda",
        ),
        ("documents: [1, 2]\n", "not a labels file"),
    ],
)
def test_a_bad_labels_file_is_refused_before_any_review_naming_what_is_wrong(tmp_path, capsys, labels_yaml, message):
    folder = labelled_folder(tmp_path, labels_yaml)
    code = main(["eval", "--labelled", str(folder), "--backend", "offline", "--no-progress"])
    _, err = capsys.readouterr()
    assert code == 2 and message in err and str(folder / "labels.yaml") in err


def test_a_labelled_file_that_is_not_a_pdf_is_refused_naming_it(tmp_path, capsys):
    folder = labelled_folder(tmp_path, "documents:\n  fake.pdf:\n    labels:\n      handover: {grade: met}\n", pdfs=())
    (folder / "fake.pdf").write_text("not a pdf")
    code = main(["eval", "--labelled", str(folder), "--backend", "offline", "--no-progress"])
    _, err = capsys.readouterr()
    assert code == 2 and "fake.pdf: not a PDF" in err


def test_a_labels_file_may_name_its_own_rubric_file_beside_it(tmp_path):
    folder = labelled_folder(
        tmp_path, "rubric: ours.yaml\ndocuments:\n  helix_systems.pdf:\n    labels:\n      data_safety: {grade: met}\n"
    )
    rubric_text = (Path(__file__).resolve().parent.parent / "reviewer/rubrics/default.yaml").read_text()
    (folder / "ours.yaml").write_text(rubric_text.replace("id: ai_vendor_checklist", "id: our_checklist", 1))
    labelled = load_samples(folder)
    assert labelled.rubric.id == "our_checklist" and labelled.size == 1


def test_per_criterion_scores_split_accuracy_and_evidence_recall_by_criterion():
    span = EvidenceSpan(page=1, start=0, end=10)
    predictions = [
        pred(M, M, quotes=[quote(0, 5)], evidence=[span]).model_copy(update={"criterion_id": "a"}),
        pred(M, X, evidence=[span]).model_copy(update={"criterion_id": "a"}),
        pred(X, X).model_copy(update={"criterion_id": "b"}),
    ]
    scores = compute_metrics(predictions, [M, X, R]).per_criterion
    assert scores["a"].labels == 2 and scores["a"].accuracy == 0.5 and scores["a"].evidence_recall == 0.5
    assert scores["b"].labels == 1 and scores["b"].accuracy == 1.0 and scores["b"].evidence_recall is None


def test_a_gold_quote_missing_from_the_document_is_reported_not_silently_dropped(tmp_path, capsys):
    folder = labelled_folder(
        tmp_path,
        "documents:\n  helix_systems.pdf:\n    labels:\n"
        "      handover: {grade: met, page: 1, quote: 'a sentence that is nowhere in this proposal'}\n",
    )
    code = main(["eval", "--labelled", str(folder), "--backend", "offline", "--no-progress", "--format", "json"])
    out, err = capsys.readouterr()
    [report] = json.loads(out)
    assert code == 0
    assert report["gold_quotes_not_found"] == [
        "helix_systems.pdf: handover: a sentence that is nowhere in this proposal"
    ]
    assert "1 gold quotes are not in their documents' text" in err


class InterruptedBatchAPI(FakeBatchAPI):
    """Fails the first download of results, as if the run were stopped after submitting the batch."""

    def __init__(self) -> None:
        super().__init__(lambda cid: "succeeded")
        self.creates = 0
        self.result_downloads = 0

    def handle(self, request):
        if request.method == "POST" and request.url.path == "/v1/messages/batches":
            self.creates += 1
        if request.method == "GET" and request.url.path.endswith("/results"):
            self.result_downloads += 1
            if self.result_downloads == 1:
                return httpx2.Response(500, json={"type": "error", "error": {"type": "api_error", "message": "gone"}})
        return super().handle(request)


def test_eval_through_a_message_batch_bills_half_and_resumes_the_same_batch(tmp_path, settings):
    api = InterruptedBatchAPI()
    backend = api.backend(settings.updated(jobs={"batch_poll_seconds": 0.01}))
    labelled = load_contractnli(contractnli_file(tmp_path))
    state_dir = tmp_path / "batches"

    with pytest.raises(ReviewerError, match="HTTP 500"):
        evaluate_in_batch(labelled, backend, state_dir, show_progress=False)
    assert api.creates == 1 and len(list(state_dir.glob("eval-*.json"))) == 1

    report, predictions = evaluate_in_batch(labelled, backend, state_dir, show_progress=False)
    assert api.creates == 1 and api.direct_calls == 0  # the saved batch was picked up, not paid for twice
    assert len(api.submitted) == 4  # 17 criteria in groups of 5
    assert [p.predicted_grade for p in predictions] == [X, X, X]  # the fake answers `missing` throughout
    assert report.metrics.accuracy == pytest.approx(1 / 3, abs=1e-4)
    full_price = 4 * (100 * 2.0 + 50 * 10.0) / 1e6
    assert report.usage.estimated_cost_usd == pytest.approx(full_price / 2)
    assert not list(state_dir.glob("eval-*.json"))


class FailsOnFirstDocument:
    """Grades like the offline grader, except that the first document it sees raises."""

    name = "fails-once"
    offline = True

    def __init__(self) -> None:
        self.seen = 0

    async def grade(self, document, rubric):
        self.seen += 1
        if self.seen == 1:
            raise ConfigurationError("the backend refused this document", code="backend_refused")
        return OfflineBackend().grade_sync(document, rubric)


def test_a_document_the_backend_cannot_review_stops_the_run_instead_of_dropping_out_of_it():
    with pytest.raises(ConfigurationError, match="refused"):
        evaluate(load_samples(), FailsOnFirstDocument(), concurrency=1, show_progress=False)
