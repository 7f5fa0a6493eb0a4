"""JSON logs through structlog, with the correlation id bound per request and per message.

Every line carries the keys bound with `structlog.contextvars` where it was logged: a
request's `correlation_id` (and its caller, `actor`), bound by the service frame
(`shared.service`); a consumed event's `correlation_id` and `province`, bound by the
consumer (`shared.consumer`) around the work on that event (its "event applied" line, the
tries of an event applied on its own, a dead letter, read from its headers).
"""

import logging
import sys

import structlog


def configure_logging(service: str, level: str = "INFO") -> None:
    """One JSON object per line on stdout; stdlib loggers (uvicorn, aiokafka) included."""
    shared_processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),  # what stdlib callers pass as `extra` (faststream's ids)
        structlog.processors.CallsiteParameterAdder(
            {structlog.processors.CallsiteParameter.MODULE}
        ),
    ]
    structlog.configure(
        processors=[
            *shared_processors,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _add_service(service),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


def _add_service(service: str) -> structlog.typing.Processor:
    def add(
        _logger: object, _method: str, event_dict: structlog.typing.EventDict
    ) -> structlog.typing.EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    return add
