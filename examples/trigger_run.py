"""Start a run and return at once (the seed's triggerRun).

Run against the local platform: `cxpa dev-server` in one shell, then
CXPA_API_URL=http://127.0.0.1:8787 CXPA_INGEST_KEY=cxpa_local_ingest_key python examples/trigger_run.py
"""

from cxpa_sdk import trigger_run

run = trigger_run(agent_id=1, input={"url": "https://example.com"})
print(f"started {run.run_id} ({run.status})")
