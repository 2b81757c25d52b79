"""Load on the HTTP API: N concurrent uploads against a running server whose model is a fake with a
fixed latency per call.

    python -m bench.api_load [--jobs 100] [--clients 50] [--workers 10] [--latency 1.0]

Starts a fake Anthropic API and `reviewer serve` on 127.0.0.1 (a fresh data directory), uploads
`jobs` distinct generated proposals from `clients` concurrent clients, then polls until every job
is done. Prints upload throughput, p50/p95 latency of accepting an upload, the total time, and
that time against the ideal (jobs / workers) x model time per review (two calls in sequence: the
cache-warming call, then the rest).
"""

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import httpx2

from tests.fake_anthropic_server import FakeAnthropicServer
from tests.pdfs import text_pdf
from tests.test_server_process import AUTH, Server

BOUNDARY = "reviewerbenchboundary"


def multipart_request(host: str, pdf: bytes, name: str) -> bytes:
    """A complete HTTP/1.1 upload, built once, so the load generator spends no time encoding."""
    body = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="backend"\r\n\r\nanthropic\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + pdf
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    head = (
        f"POST /v1/reviews HTTP/1.1\r\nHost: {host}\r\nAuthorization: {AUTH['Authorization']}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def send(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bytes]:
    writer.write(request)
    await writer.drain()
    status_line = await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return int(status_line.split()[1]), await reader.readexactly(length)


async def run(args: argparse.Namespace) -> None:
    with FakeAnthropicServer(delay=args.latency) as model, tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "data", model.url)
        server.env["REVIEWER_API_WORKER_CONCURRENCY"] = str(args.workers)
        server.start()
        host = f"127.0.0.1:{server.port}"
        requests = [
            multipart_request(
                host,
                text_pdf(
                    [
                        f"Proposal {i}. We agree an evaluation set of {100 + i} labelled cases before building.",
                        f"Client data stays in the EU region; retraining happens every {i % 12 + 1} months.",
                    ]
                ),
                f"p{i}.pdf",
            )
            for i in range(args.jobs)
        ]
        latencies: list[float] = []
        ids: list[str] = []
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        for request in requests:
            queue.put_nowait(request)

        async def client() -> None:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            try:
                while not queue.empty():
                    request = queue.get_nowait()
                    if args.rate:
                        await asyncio.sleep(random.expovariate(args.rate / args.clients))
                        writer.close()  # an idle keep-alive connection may have been closed by the server
                        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                    start = time.perf_counter()
                    status, body = await send(reader, writer, request)
                    latencies.append(time.perf_counter() - start)
                    assert status == 202, body
                    ids.append(json.loads(body)["id"])
            finally:
                writer.close()

        try:
            started = time.perf_counter()
            await asyncio.gather(*(client() for _ in range(args.clients)))
            uploaded = time.perf_counter() - started
            async with httpx2.AsyncClient(base_url=server.url, headers=AUTH, timeout=60) as api:
                pending, failed = set(ids), 0
                while pending:
                    await asyncio.sleep(0.25)
                    for status in ("done", "failed"):
                        page = (await api.get("/v1/reviews", params={"status": status, "limit": 200})).json()
                        pending -= {item["id"] for item in page["items"]}
                        failed = page["total"] if status == "failed" else failed
            total = time.perf_counter() - started
        finally:
            server.stop()

    quantiles = statistics.quantiles(latencies, n=100)
    ideal = args.jobs / args.workers * 2 * args.latency
    arrival = f"Poisson arrivals at {args.rate:g}/s" if args.rate else "back-to-back"
    print(
        f"{args.jobs} uploads from {args.clients} concurrent clients ({arrival}), {args.workers} review workers, "
        f"model latency {args.latency:g} s per call (2 calls per review)"
    )
    print(
        f"  accepted in {uploaded:.2f} s ({args.jobs / uploaded:.0f} uploads/s); accept latency "
        f"p50 {quantiles[49] * 1000:.0f} ms, p95 {quantiles[94] * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
    )
    print(
        f"  all {args.jobs} jobs finished ({failed} failed) in {total:.1f} s; ideal {ideal:.1f} s "
        f"-> {total / ideal:.2f}x; fake model served {model.requests} calls"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=10)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--rate", type=float, default=0.0, help="uploads per second in all (0: back-to-back)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
