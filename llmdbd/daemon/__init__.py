"""`llmdbd run`: the daemon. `run` is its entry point and `service` its loop; `rebuild`, `patch_store`,
`upstream`, `status` and `watch` hold what it manages; `sdnotify` and `logs` talk to systemd and the journal.

Nothing is imported here, so `llmdbd status` works without the `daemon` extra."""
