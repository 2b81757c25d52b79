"""Review overhead and billed input tokens, with the model replaced by an instant fake.

    python -m bench.overhead

1. Overhead: everything a review does except wait for the model (prompt rendering, the SDK's request
   and response handling, answer validation, quote verification, scoring, Markdown and JSON
   rendering) for a 30-page proposal, through the real AnthropicBackend and SDK over an in-memory
   transport. Extraction is measured by bench/extraction.py.
2. Billed input tokens per review relative to one uncached pass that sends instructions, document
   and all criteria once. The fake API imitates prompt caching (the prefix up to the cache
   breakpoint is written on first sight and read afterwards) and counts tokens as characters / 4;
   cache writes bill at 1.25x and reads at 0.1x. Shown for several call structures, with and without
   one invalid answer that has to be asked again.
"""

import asyncio
import json
import logging
import re
import statistics
import time

import anthropic
import httpx2

from bench.proposals import long_proposal_source
from reviewer.config import GradingSettings, Settings
from reviewer.documents import Document
from reviewer.grading.anthropic_backend import AnthropicBackend
from reviewer.grading.prompts import render_document, render_system, render_task
from reviewer.pipeline import review_document
from reviewer.render.markdown import render_markdown
from reviewer.rubric import load_rubric
from samples.build_samples import PAGE_BREAK

CHARS_PER_TOKEN = 4


def tokens(text: str) -> int:
    return max(1, len(text) // CHARS_PER_TOKEN)


class CachingFakeAPI:
    """Answers every request at once, quoting the document, and accounts tokens as the API would."""

    def __init__(self, document: Document, invalid_first_answer_for_call: int | None = None) -> None:
        self.document = document
        self.invalid_for = invalid_first_answer_for_call
        self.cached_prefixes: set[str] = set()
        self.calls = 0
        self.billed = 0.0

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        self.calls += 1
        document_block, task_block = body["messages"][0]["content"]
        prefix = body["system"] + document_block["text"]
        if prefix in self.cached_prefixes:
            usage = {"cache_read_input_tokens": tokens(prefix), "cache_creation_input_tokens": 0}
        else:
            self.cached_prefixes.add(prefix)
            usage = {"cache_read_input_tokens": 0, "cache_creation_input_tokens": tokens(prefix)}
        usage |= {"input_tokens": tokens(task_block["text"]), "output_tokens": 300}
        self.billed += (
            usage["input_tokens"] + 1.25 * usage["cache_creation_input_tokens"] + 0.1 * usage["cache_read_input_tokens"]
        )
        ids = re.findall(r"^- `([a-z0-9_]+)`", task_block["text"], flags=re.MULTILINE)
        if self.invalid_for == self.calls:
            text = '{"findings": ['
            stop = "max_tokens"
        else:
            quote = self.document.pages[3].text.split(". ")[0]
            findings = [
                {
                    "criterion_id": cid,
                    "grade": "partial",
                    "rationale": "Some of it.",
                    "citations": [{"page": 4, "quote": quote}],
                    "clarification_question": "More?",
                }
                for cid in ids
            ]
            text, stop = json.dumps({"findings": findings, "injection_attempts": [], "vendor_name": None}), "end_turn"
        return httpx2.Response(
            200,
            json={
                "id": "msg",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [{"type": "text", "text": text}],
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": usage,
            },
        )


def client_for(api: CachingFakeAPI) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(
        api_key="bench",
        base_url="http://bench.invalid",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(api.handle)),
    )


def thirty_page_document() -> Document:
    return Document.from_text(long_proposal_source(30).replace(PAGE_BREAK, "\f"), "generated-30.pdf")


def measure_overhead(document: Document, runs: int = 20) -> list[float]:
    rubric = load_rubric()
    settings = Settings()
    times = []
    for _ in range(runs):
        api = CachingFakeAPI(document)
        backend = AnthropicBackend(settings, client=client_for(api))
        start = time.perf_counter()
        review = asyncio.run(review_document(document, rubric, backend))
        render_markdown(review)
        review.model_dump_json()
        times.append(time.perf_counter() - start)
    return times


def billed_ratio(document: Document, per_call: int, invalid_call: int | None) -> tuple[int, float]:
    rubric = load_rubric()
    settings = Settings(grading=GradingSettings(criteria_per_call=per_call))
    api = CachingFakeAPI(document, invalid_first_answer_for_call=invalid_call)
    asyncio.run(review_document(document, rubric, AnthropicBackend(settings, client=client_for(api))))
    single_pass = (
        tokens(render_system(rubric)) + tokens(render_document(document)) + tokens(render_task(rubric.criteria))
    )
    return api.calls, api.billed / single_pass


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    document = thirty_page_document()
    times = measure_overhead(document)
    print(f"30-page proposal ({document.char_count:,} characters, ~{tokens(render_document(document)):,} tokens)")
    print(
        f"review overhead without the model: median {statistics.median(times) * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms over {len(times)} runs (first run includes imports/warm-up)"
    )
    print("\nbilled input tokens relative to one uncached pass (cache write 1.25x, read 0.1x):")
    print(f"{'criteria per call':>18} {'calls':>6} {'ratio':>6} {'calls*':>7} {'ratio*':>7}   (* = one answer retried)")
    for per_call in (9, 5, 3, 1):
        calls, ratio = billed_ratio(document, per_call, None)
        calls_r, ratio_r = billed_ratio(document, per_call, 2 if per_call < 9 else 1)
        print(f"{per_call:>18} {calls:>6} {ratio:>6.2f} {calls_r:>7} {ratio_r:>7.2f}")


if __name__ == "__main__":
    main()
