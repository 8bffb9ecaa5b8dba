"""Reproducible benchmarks (`make bench`): each figure printed beside baselines measured in the same run."""
