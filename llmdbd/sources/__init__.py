"""Sources: one module per kind of input, each turning it into `Layer`s (llmdbd/layer.py) in llmdb's field names.

`modelsdev` (the models.dev api.json), `patches` (patch files and the config's overrides table), `overrides`
(a Python module), `packaged` (the catalog shipped with the client), `litellm` (LiteLLM's model map).
`fields` is their shared translation of models.dev field names, `upstream_json` the reading and decoding
every upstream file shares. A layer is the whole protocol: the engine never sees where it came from.
"""
