"""rewardgate benchmarks: ``python -m bench`` (``make bench``), ``--quick`` for under 3 minutes."""
