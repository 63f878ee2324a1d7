"""The service adapters call: the facade (`facade.Reelsmith`), the chat grammar, member-facing texts, and the
feature registry that assembles moderation, quotas and labelling into one service (`features.build_service`)."""
