"""RQ jobs, queues, periodic sweeps, routing and intake (depends on models and classifier)."""
