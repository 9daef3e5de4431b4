"""RQ jobs. Jobs take ids, load their own rows, commit, then enqueue follow-ups."""
