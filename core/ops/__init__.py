"""Operating the service: Prometheus metrics, health endpoints, logs, host-name checks and start-up checks."""
