"""Readers of datasets and predictions (CSV, Parquet, JSON Lines) and input validation."""
