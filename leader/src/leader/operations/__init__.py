"""Operations: every mutating cluster action, run by the worker as a fan-out to the target agents."""
