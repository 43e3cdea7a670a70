"""rewardgate service: batched /score and /gate over a reward model from the model store."""
