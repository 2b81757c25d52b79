import io
import json
import logging

from reviewer.logs import configure_logging


def test_json_log_lines_are_one_object_each_and_reconfiguring_replaces_the_handler():
    stream = io.StringIO()
    try:
        configure_logging("json", stream)
        configure_logging("json", stream)
        logging.getLogger("reviewer.jobs").info("review %s done in %.2f s", "abc123", 1.5)
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("reviewer.api").exception("request failed")
        first, second = (json.loads(line) for line in stream.getvalue().splitlines())
        assert first["level"] == "INFO" and first["logger"] == "reviewer.jobs"
        assert first["message"] == "review abc123 done in 1.50 s" and first["time"].endswith("+00:00")
        assert second["level"] == "ERROR" and "ValueError: boom" in second["exception"]
    finally:
        configure_logging("text")
    ours = [h for h in logging.getLogger("reviewer").handlers if type(h).__name__ == "_ReviewerHandler"]
    assert len(ours) == 1


def test_text_log_lines_name_level_and_logger():
    stream = io.StringIO()
    try:
        configure_logging("text", stream)
        logging.getLogger("reviewer.jobs").info("started 4 review workers")
        assert stream.getvalue().strip().endswith("INFO reviewer.jobs: started 4 review workers")
    finally:
        configure_logging("text")


def test_uvicorn_lines_follow_the_same_format():
    import logging.config

    from reviewer.logs import uvicorn_log_config

    assert uvicorn_log_config("text") is None
    config = uvicorn_log_config("json")
    logging.config.dictConfig(config)
    handler = logging.getLogger("uvicorn").handlers[0]
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "Started server process [%d]", (7,), None)
    assert json.loads(handler.format(record))["message"] == "Started server process [7]"
