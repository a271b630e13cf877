"""`make bench`: the migrator's speed and memory against physical limits, measured side by side in one run."""
