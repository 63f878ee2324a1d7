"""Operating the service: Prometheus metrics, health endpoints, logs, host-name checks and start-up checks."""

from core.ops.config_check import ConfigError, check_or_exit, describe_validation_error, web_bind_problem
from core.ops.health import HealthEndpoints, serve_health
from core.ops.hosts import Address, is_loopback, is_wildcard, parse_host, url_host
from core.ops.logs import setup_logging
from core.ops.metrics import process_metrics, worker_name

__all__ = [
    "Address",
    "ConfigError",
    "HealthEndpoints",
    "check_or_exit",
    "describe_validation_error",
    "is_loopback",
    "is_wildcard",
    "parse_host",
    "process_metrics",
    "serve_health",
    "setup_logging",
    "url_host",
    "web_bind_problem",
    "worker_name",
]
