"""Report the status of a standalone agent's run (the seed's ingestRun)."""

from cxpa_sdk import ingest_run

ingest_run(agent_id=5, external_run_id="exec_001", status="running")
done = ingest_run(agent_id=5, external_run_id="exec_001", status="completed", output={"pages": 42}, outputs=42)
print(f"run {done.run_id} is {done.status}")
