"""An evaluation report as a plain-text table for the terminal."""

from reviewer.evaluation.run_diff import RunDiff
from reviewer.evaluation.runner import EvalReport


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _interval(report: EvalReport, name: str) -> str:
    if report.intervals is None:
        return ""
    i = getattr(report.intervals, name)
    return f"   {report.intervals.confidence:.0%} interval {i.low:.3f}-{i.high:.3f}"


def render_eval_table(report: EvalReport) -> str:
    m = report.metrics
    label = "offline grader" if report.offline else f"{report.backend} ({report.model})"
    lines = [
        f"{report.dataset}: {report.documents} documents, {m.labels} labels, {label}, "
        f"rubric {report.rubric_id} v{report.rubric_version}, {report.seconds:.1f} s",
        "",
        f"  grade accuracy        {_pct(m.accuracy)}{_interval(report, 'accuracy')}",
        f"  macro-F1              {_pct(m.macro_f1)}{_interval(report, 'macro_f1')}",
        f"  evidence recall       {_pct(m.evidence_recall)}"
        + "".join(f"   @{k} {_pct(v)}" for k, v in m.evidence_recall_at.items()),
        f"  citation validity     {_pct(m.citation_validity)}",
        f"  criteria failed       {m.errors}",
        *(
            [
                f"  (intervals: bootstrap over the {report.intervals.documents} documents, "
                f"{report.intervals.resamples} resamples; a document's labels move together)"
            ]
            if report.intervals
            else []
        ),
        "",
        f"  {'grade':10} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8}",
    ]
    for grade, s in m.per_grade.items():
        lines.append(f"  {grade:10} {s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>6.3f} {s.support:>8}")
    predicted = sorted({p for row in m.confusion.values() for p in row})
    lines += [
        "",
        "  confusion (rows gold, columns predicted)",
        "  " + " " * 10 + "".join(f"{p:>10}" for p in predicted),
    ]
    for gold, row in m.confusion.items():
        lines.append(f"  {gold:10}" + "".join(f"{row.get(p, 0):>10}" for p in predicted))
    if m.per_criterion:
        width = max(len(c) for c in m.per_criterion)
        lines += ["", f"  {'criterion':{width}} {'labels':>7} {'accuracy':>9} {'evidence':>9}"]
        for criterion_id, c in sorted(m.per_criterion.items(), key=lambda item: (item[1].accuracy, item[0])):
            lines.append(f"  {criterion_id:{width}} {c.labels:>7} {_pct(c.accuracy):>9} {_pct(c.evidence_recall):>9}")
    if report.usage.calls:
        u = report.usage
        lines += [
            "",
            f"  model calls {u.calls}; tokens in {u.input_tokens}, out {u.output_tokens}, cache read "
            f"{u.cache_read_input_tokens}, cache write {u.cache_creation_input_tokens}",
            f"  per document: {report.tokens_per_document:.0f} tokens, ${report.cost_per_document_usd:.4f}; "
            f"total ${u.estimated_cost_usd:.4f}",
        ]
    return "\n".join(lines) + "\n"


def render_diff_table(diff: RunDiff) -> str:
    i = diff.difference_interval
    lines = [
        f"baseline  {diff.baseline}" + (f"  ({diff.baseline_grader})" if diff.baseline_grader else ""),
        f"candidate {diff.candidate}" + (f"  ({diff.candidate_grader})" if diff.candidate_grader else ""),
        f"{diff.labels} labels in common over {diff.documents} documents"
        + (f"; only in baseline {diff.only_in_baseline}" if diff.only_in_baseline else "")
        + (f"; only in candidate {diff.only_in_candidate}" if diff.only_in_candidate else ""),
        "",
        f"  accuracy   baseline {diff.baseline_accuracy:.3f}   candidate {diff.candidate_accuracy:.3f}",
        f"  difference {diff.difference:+.3f}   {diff.confidence:.0%} interval {i.low:+.3f} to {i.high:+.3f} "
        f"(paired bootstrap over documents, {diff.resamples} resamples)",
        f"  verdict    {diff.verdict}",
        f"  labels the candidate fixed {diff.fixed}, broke {diff.broken}",
    ]
    if diff.per_criterion:
        width = max(len(c) for c in diff.per_criterion)
        lines += [
            "",
            f"  {'criterion':{width}} {'labels':>7} {'baseline':>9} {'candidate':>10} {'fixed':>6} {'broke':>6}",
        ]
        ordered = sorted(diff.per_criterion.items(), key=lambda item: (item[1].fixed - item[1].broken, item[0]))
        for criterion_id, c in ordered:
            lines.append(
                f"  {criterion_id:{width}} {c.labels:>7} {c.baseline_accuracy:>9.3f} {c.candidate_accuracy:>10.3f} "
                f"{c.fixed:>6} {c.broken:>6}"
            )
    return "\n".join(lines) + "\n"
