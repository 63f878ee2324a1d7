"""Generation with diffusers pipelines (worker-only: bots never import it).

- `pipeline`: `PipelineSet` (warm pipelines loaded with `from_pretrained`, the one `render` path where a job
  is a batch of one, `generate` for a lone request), `Job`, `GenerationResult`, `GenerationError`,
  `GenerationCancelled`, and the `ProgressFn` / `StopFn` callables.
- `families`: the family table, which diffusers class does which `Task` for each model family.
- `batch`: `batch_key`, which requests can share a pipeline call.
- `conditions`: LTX video conditions, partial schedules, and the notes on unused references.
- `placement`: device, dtype and memory options.
- `tiny_models`, `tiny_ltx2`: the tiny random-weight twins the tests and `scripts/run.sh` use.
"""
