"""Views of llmdb's catalog in other libraries' shapes, so code written for them switches without a rewrite:
`llmdb.compat.litellm` (LiteLLM's `model_cost`, `get_model_info`, `supports_*`, `cost_per_token`)."""
