"""Generation with diffusers pipelines (worker-only: bots never import it): loading with `from_pretrained`,
warm pipelines, batching, and the tiny random-weight twins the tests and `scripts/run.sh` use."""
