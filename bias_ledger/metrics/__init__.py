"""Count-based fairness metric engine: per-group confusion counts -> metrics and disparities."""
