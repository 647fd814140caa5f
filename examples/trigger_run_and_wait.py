"""Start a run and wait for its output (the seed's triggerRunAndWait)."""

from cxpa_sdk import WaitTimedOut, trigger_run_and_wait

result = trigger_run_and_wait(agent_id=1, input={"topic": "Q3 financial summary"}, timeout_ms=120_000)
if isinstance(result, WaitTimedOut):
    print(f"still running: {result.run_id}; wait for it with Cxpa().wait_for_run(1, {result.run_id!r})")
elif result.status == "completed":
    print(f"output of {result.run_id}: {result.output_data}")
else:
    result.raise_for_status()  # RunFailedError with the run's error
