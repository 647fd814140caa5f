"""Register an externally triggered run and get a credentials token for its runtime (the seed's registerRun)."""

from cxpa_sdk import register_run

registered = register_run(agent_id=1, external_run_id="run_abc123")
print(f"registered {registered.run_id}; the token is valid for {registered.expires_in_seconds} s")
# Hand registered.credentials_token to the runtime with the agent API key; it is never printed by repr.
print(registered)
