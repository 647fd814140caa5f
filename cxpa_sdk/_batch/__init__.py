"""Jobs over many items: `trigger_many` and `run_many`, their batches, keys and journal."""
