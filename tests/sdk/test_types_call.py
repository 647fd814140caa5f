"""Every result of a call says which request answered it: request id, idempotent replay, attempts."""

from sdk_support import Api

from cxpa_sdk import AgentClient, Cxpa, Run, RunStatus, WaitTimedOut
from cxpa_sdk.testing import LocalPlatform


def assert_first_hand(result: object) -> None:
    """The result came from one attempt, not a replay, with the platform's request id."""
    assert isinstance(getattr(result, "request_id", None), str)
    assert getattr(result, "request_id", "") != ""
    assert getattr(result, "replayed", None) is False
    assert getattr(result, "attempts", None) == 1


def test_trigger_again_with_the_same_key_is_a_replay(api: Api) -> None:
    """The second trigger with one idempotency_key is marked replayed; both compare equal."""
    first = api.trigger_run(1, {"n": 1}, idempotency_key="types-call-replay-" + api.mode)
    second = api.trigger_run(1, {"n": 1}, idempotency_key="types-call-replay-" + api.mode)
    assert_first_hand(first)
    assert second.replayed is True
    assert second.run_id == first.run_id
    assert second.request_id not in (None, first.request_id)
    assert second == first  # handles on one run compare equal


def test_attempts_count_the_retries(api: Api) -> None:
    """A trigger retried after two 503s says it took 3 attempts."""
    with api.platform.faults.fail_next(2, status=503, path="*/runs/trigger"):
        triggered = api.trigger_run(1, {"n": 2})
    assert triggered.attempts == 3
    assert triggered.replayed is False


def test_every_result_type_carries_the_call(api: Api) -> None:
    """TriggeredRun, Run (wait, get, cancel), RegisteredRun and IngestedRun each have their request's id."""
    finished = api.trigger_run_and_wait(1, {"n": 3}, timeout_ms=10_000)
    assert isinstance(finished, Run)
    registered = api.register_run(1, "types-call-" + api.mode)
    results = [
        finished,
        api.get_run(1, finished.run_id),
        api.wait_for_run(1, finished.run_id, timeout=10),
        registered,
        api.cancel_run(1, registered.run_id),
        api.ingest_run(5, "types-call-" + api.mode, "completed", output={"ok": True}),
    ]
    for result in results:
        assert_first_hand(result)
    assert len({result.request_id for result in results}) == len(results)


def test_a_timed_out_wait_carries_the_call(api: Api) -> None:
    """A WaitTimedOut says which request last saw the run still going."""
    agent = api.platform.add_agent("types-call-never-ends")
    result = api.trigger_run_and_wait(agent.id, {}, timeout_ms=50)
    assert isinstance(result, WaitTimedOut)
    assert_first_hand(result)


def test_a_resolved_credential_carries_the_call(cxpa_platform: LocalPlatform, cxpa_client: Cxpa) -> None:
    """A Credential from resolve_credential has its request id; its values stay out of repr."""
    agent = cxpa_platform.add_agent("types-call-credential")
    registered = cxpa_client.register_run(agent.id, "types-call-credential")
    with AgentClient(
        base_url=cxpa_platform.base_url,
        api_key=cxpa_platform.agent_api_key(agent.id),
        run_id=registered.run_id,
        credentials_token=registered.credentials_token,
    ) as runtime:
        credential = runtime.resolve_credential("conn_demo")
    assert_first_hand(credential)
    assert "cxpa-demo-secret" not in repr(credential)


def test_callback_answers_carry_the_call(api: Api) -> None:
    """Each callback returns a CallbackAccepted with the run's status and its request's id and attempts."""
    registered = api.register_run(1, "types-call-callbacks-" + api.mode)
    agent = AgentClient(base_url=api.platform.base_url, api_key=api.platform.agent_api_key(1), run_id=registered.run_id)
    try:
        started = agent.started()
        with api.platform.faults.fail_next(1, status=503, path="*/callback", who="runtimes"):
            progressed = agent.output({"progress": 0.5})
        done = agent.complete({"ok": True})
    finally:
        agent.close()
    assert_first_hand(started)
    assert_first_hand(done)
    assert (started.run_id, started.status, progressed.status, done.status) == (
        registered.run_id,
        RunStatus.RUNNING,
        RunStatus.RUNNING,
        RunStatus.COMPLETED,
    )
    assert progressed.attempts == 2
    assert len({started.request_id, progressed.request_id, done.request_id}) == 3


def test_a_download_carries_its_request_id_and_attempts(api: Api) -> None:
    """A Download says which request it came in and how many attempts that took."""
    with api.platform.faults.fail_next(1, status=503, path="*/trigger-and-download"):
        download, body = api.download(4, {"sizeBytes": 10})
    assert len(body) == 10
    assert download.attempts == 2
    assert isinstance(download.request_id, str)
    assert download.request_id.startswith("req_")
