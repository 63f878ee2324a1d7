"""Credits and fair shares: what a job costs, the quota book (two layers: overall credits and chat limits),
its guard and `/quota`, and the moderators' overrides."""
