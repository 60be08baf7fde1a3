"""A fleet of daemons: publishing snapshots to object storage, following a leader there (docs/fleet.md)."""
