"""Every endpoint of the local platform and every error status it documents, over real HTTP."""

import threading
import time

import httpx2
import pytest

from cxpa_sdk.testing import APPROVAL, ECHO, FAIL, REPORT, SLOW, STANDALONE, LocalPlatform, RuntimeFile, report_bytes


def agent_auth(platform: LocalPlatform, agent_id: int) -> dict[str, str]:
    """The Authorization header of an agent's runtime."""
    return {"Authorization": f"Bearer {platform.agent_api_key(agent_id)}"}


def error_code(response: httpx2.Response) -> str:
    """The Error envelope's code (and a check that the envelope is well formed)."""
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["message"]
    return str(body["error"]["code"])


def manual_agent(platform: LocalPlatform, name: str) -> int:
    """A platform-managed agent with no runtime: tests drive its runs through callbacks."""
    return platform.add_agent(name).id


class TestTrigger:
    """POST /api/agents/{agentId}/runs/trigger."""

    def test_queues_a_run(self, http: httpx2.Client) -> None:
        """202 with the new run's id and status, and X-Request-Id."""
        response = http.post(f"/api/agents/{ECHO}/runs/trigger", json={"input": {"a": 1}})
        assert response.status_code == 202
        assert set(response.json()) == {"runId", "status"}
        assert response.json()["status"] in ("queued", "running", "completed")
        assert response.headers["x-request-id"].startswith("req_")

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({}, "input: is required"),
            ({"input": [1]}, "input: must be object"),
            ({"input": {}, "extra": 1}, "extra: is not a known field"),
        ],
        ids=["missing-input", "input-not-object", "unknown-field"],
    )
    def test_invalid_body_is_400_naming_the_field(self, http: httpx2.Client, body: dict, message: str) -> None:
        """400 invalid_body whose message names the field."""
        response = http.post(f"/api/agents/{ECHO}/runs/trigger", json=body)
        assert response.status_code == 400
        assert error_code(response) == "invalid_body"
        assert response.json()["error"]["message"] == message

    def test_non_json_is_400(self, http: httpx2.Client) -> None:
        """A body that is not JSON is 400 invalid_json, not a 500."""
        response = http.post(f"/api/agents/{ECHO}/runs/trigger", content=b"{nope")
        assert response.status_code == 400
        assert error_code(response) == "invalid_json"

    @pytest.mark.parametrize("auth", [None, "Bearer wrong", "Basic abc"], ids=["missing", "wrong", "not-bearer"])
    def test_bad_key_is_401(self, cxpa_platform: LocalPlatform, auth: str | None) -> None:
        """A missing or wrong key is 401."""
        headers = {} if auth is None else {"Authorization": auth}
        response = httpx2.post(
            f"{cxpa_platform.base_url}/api/agents/{ECHO}/runs/trigger", json={"input": {}}, headers=headers
        )
        assert response.status_code == 401
        assert error_code(response) == "unauthorized"

    def test_key_of_other_agents_is_403(self, cxpa_platform: LocalPlatform) -> None:
        """An ingest key limited to other agents is 403."""
        cxpa_platform.add_ingest_key("limited-key", agent_ids=[SLOW])
        response = httpx2.post(
            f"{cxpa_platform.base_url}/api/agents/{ECHO}/runs/trigger",
            json={"input": {}},
            headers={"Authorization": "Bearer limited-key"},
        )
        assert response.status_code == 403
        assert error_code(response) == "forbidden"

    @pytest.mark.parametrize("agent", ["999999", "0", "abc"], ids=["unknown", "zero", "not-a-number"])
    def test_bad_agent(self, http: httpx2.Client, agent: str) -> None:
        """An unknown agent is 404; an agentId that is not an integer >= 1 is 400."""
        response = http.post(f"/api/agents/{agent}/runs/trigger", json={"input": {}})
        assert response.status_code == (404 if agent == "999999" else 400)

    def test_standalone_agent_is_409(self, http: httpx2.Client) -> None:
        """Triggering a standalone agent is 409 agent_not_platform_managed."""
        response = http.post(f"/api/agents/{STANDALONE}/runs/trigger", json={"input": {}})
        assert response.status_code == 409
        assert error_code(response) == "agent_not_platform_managed"

    def test_over_one_mib_is_413(self, http: httpx2.Client) -> None:
        """A body over 1 MiB is 413."""
        response = http.post(f"/api/agents/{ECHO}/runs/trigger", json={"input": {"x": "a" * (1 << 20)}})
        assert response.status_code == 413
        assert error_code(response) == "payload_too_large"


class TestTriggerAndWait:
    """POST /api/agents/{agentId}/runs/trigger-and-wait."""

    def test_completed_run_row(self, http: httpx2.Client) -> None:
        """200 with the full terminal Run row, output_data carrying the agent's output."""
        response = http.post(f"/api/agents/{ECHO}/runs/trigger-and-wait", json={"input": {"topic": "Q3"}})
        assert response.status_code == 200
        row = response.json()
        assert row["status"] == "completed"
        assert row["output_data"] == {"topic": "Q3"}
        assert row["input_data"] == {"topic": "Q3"}
        assert row["started_at"] is not None
        assert row["finished_at"] is not None

    def test_failed_run_has_name_message_and_stack(self, http: httpx2.Client) -> None:
        """The fail agent's run ends failed with an error that has name, message and stack."""
        response = http.post(f"/api/agents/{FAIL}/runs/trigger-and-wait", json={"input": {"message": "boom"}})
        assert response.status_code == 200
        error = response.json()["error"]
        assert response.json()["status"] == "failed"
        assert (error["name"], error["message"]) == ("RuntimeError", "boom")
        assert "Traceback" in error["stack"]

    def test_window_elapsed_is_202(self, http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
        """202 timedOut with the run id when the window elapses first; the run goes on."""
        response = http.post(
            f"/api/agents/{SLOW}/runs/trigger-and-wait", json={"input": {"seconds": 5}, "timeoutMs": 100}
        )
        assert response.status_code == 202
        body = response.json()
        assert body["timedOut"] is True
        assert body["status"] == "running"
        assert cxpa_platform.run(body["runId"])["status"] == "running"
        http.post(f"/api/agents/{SLOW}/runs/{body['runId']}/cancel")


class TestDownload:
    """POST /api/agents/{agentId}/runs/trigger-and-download."""

    def test_streams_the_file_with_its_headers(self, http: httpx2.Client) -> None:
        """200 with the file's bytes, Content-Type, Content-Length, Content-Disposition and X-Run-Id."""
        size = 300_001
        response = http.post(
            f"/api/agents/{REPORT}/runs/trigger-and-download", json={"input": {"sizeBytes": size, "chunkBytes": 7000}}
        )
        assert response.status_code == 200
        assert response.content == b"".join(report_bytes(size))
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-length"] == str(size)
        assert response.headers["content-disposition"] == 'attachment; filename="report.pdf"'
        run_id = response.headers["x-run-id"]
        row = http.get(f"/api/agents/{REPORT}/runs/{run_id}", params={"waitMs": 5000}).json()
        assert row["status"] == "completed"
        assert row["output_data"] == {"filename": "report.pdf", "contentType": "application/pdf", "sizeBytes": size}

    def test_unknown_length_is_chunked(self, http: httpx2.Client) -> None:
        """Without a known size there is no Content-Length, and every byte still arrives."""
        response = http.post(
            f"/api/agents/{REPORT}/runs/trigger-and-download",
            json={"input": {"sizeBytes": 5000, "unknownLength": True}},
        )
        assert response.status_code == 200
        assert "content-length" not in response.headers
        assert response.headers["transfer-encoding"] == "chunked"
        assert response.content == b"".join(report_bytes(5000))

    def test_non_ascii_filename_gets_filename_star(self, http: httpx2.Client) -> None:
        """A non-ASCII name gets an ASCII fallback and filename*=UTF-8'' (RFC 6266)."""
        response = http.post(
            f"/api/agents/{REPORT}/runs/trigger-and-download",
            json={"input": {"sizeBytes": 10, "filename": 'résumé "final".pdf'}},
        )
        assert response.headers["content-disposition"] == (
            "attachment; filename=\"r_sum_ _final_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf"
        )

    def test_json_agent_is_409(self, http: httpx2.Client) -> None:
        """A JSON agent can't be downloaded: 409 not_a_file_agent."""
        response = http.post(f"/api/agents/{ECHO}/runs/trigger-and-download", json={"input": {}})
        assert response.status_code == 409
        assert error_code(response) == "not_a_file_agent"

    def test_runtime_failing_before_first_byte_is_502(self, http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
        """A file runtime that fails before its first byte gives 502 run_failed with the run id."""

        def broken(call: object) -> RuntimeFile:
            raise OSError("disk full")

        agent = cxpa_platform.add_agent("broken-file", broken, output_kind="file_download")
        response = http.post(f"/api/agents/{agent.id}/runs/trigger-and-download", json={"input": {}})
        assert response.status_code == 502
        assert error_code(response) == "run_failed"
        run_id = response.json()["error"]["runId"]
        assert cxpa_platform.run(run_id)["error"]["message"] == "disk full"

    def test_no_byte_within_window_is_504(self, http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
        """A file runtime slower than the window gives 504 wait_timeout with the run id."""
        release = threading.Event()

        def late(call: object) -> RuntimeFile:
            release.wait(5)
            return RuntimeFile([b"late"])

        agent = cxpa_platform.add_agent("late-file", late, output_kind="file_download")
        response = http.post(f"/api/agents/{agent.id}/runs/trigger-and-download", json={"input": {}, "timeoutMs": 100})
        release.set()
        assert response.status_code == 504
        assert error_code(response) == "wait_timeout"
        assert response.json()["error"]["runId"]


class TestRegisterAndIngest:
    """POST .../runs/register and .../runs/ingest."""

    def test_register_is_idempotent_on_external_id(self, http: httpx2.Client) -> None:
        """201 first, then 200 with the same run id and a fresh credentials token."""
        first = http.post(f"/api/agents/{ECHO}/runs/register", json={"externalRunId": "ext-register-1"})
        again = http.post(f"/api/agents/{ECHO}/runs/register", json={"externalRunId": "ext-register-1"})
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["runId"] == again.json()["runId"]
        assert first.json()["credentialsToken"] != again.json()["credentialsToken"]
        assert first.json()["expiresInSeconds"] == 3600

    def test_ingest_upserts_until_terminal(self, http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
        """Ingest creates, updates, and then refuses to change a terminal run (409 run_finished)."""
        url = f"/api/agents/{STANDALONE}/runs/ingest"
        created = http.post(url, json={"externalRunId": "exec_1", "status": "running"})
        done = http.post(
            url, json={"externalRunId": "exec_1", "status": "completed", "output": {"p": 42}, "outputs": 42}
        )
        late = http.post(url, json={"externalRunId": "exec_1", "status": "running"})
        assert (created.status_code, done.status_code, late.status_code) == (200, 200, 409)
        assert created.json()["runId"] == done.json()["runId"]
        assert error_code(late) == "run_finished"
        row = cxpa_platform.run(done.json()["runId"])
        assert (row["status"], row["output_data"], row["outputs"], row["external_run_id"]) == (
            "completed",
            {"p": 42},
            42,
            "exec_1",
        )

    def test_ingest_on_platform_agent_is_409(self, http: httpx2.Client) -> None:
        """Ingest for a platform-managed agent is 409 agent_not_standalone."""
        response = http.post(f"/api/agents/{ECHO}/runs/ingest", json={"externalRunId": "x", "status": "running"})
        assert response.status_code == 409
        assert error_code(response) == "agent_not_standalone"

    def test_ingest_unknown_status_is_400(self, http: httpx2.Client) -> None:
        """A status outside the enum is 400 naming the field."""
        response = http.post(f"/api/agents/{STANDALONE}/runs/ingest", json={"externalRunId": "x", "status": "done"})
        assert response.status_code == 400
        assert response.json()["error"]["message"].startswith("status: must be one of")


class TestCallback:
    """POST /api/runs/{runId}/callback."""

    def test_events_drive_the_run(self, http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
        """started, output, waiting, started and complete move the run and record output and token."""
        agent_id = manual_agent(cxpa_platform, "manual-callbacks")
        run_id = http.post(f"/api/agents/{agent_id}/runs/trigger", json={"input": {}}).json()["runId"]
        auth = agent_auth(cxpa_platform, agent_id)
        url = f"{cxpa_platform.base_url}/api/runs/{run_id}/callback"
        steps = [
            ({"type": "started"}, "running"),
            ({"type": "output", "output": {"step": 1}}, "running"),
            ({"type": "waiting", "tokenId": "tok_1", "description": "approve"}, "waiting"),
            ({"type": "started"}, "running"),
            ({"type": "output", "output": {"done": True}, "outputs": 3, "complete": True}, "completed"),
        ]
        for event, status in steps:
            response = httpx2.post(url, json=event, headers=auth)
            assert response.status_code == 200, response.text
            assert response.json() == {"runId": run_id, "status": status}
            if status == "waiting":
                assert cxpa_platform.run(run_id)["waiting"] == {"token_id": "tok_1", "description": "approve"}
        row = cxpa_platform.run(run_id)
        assert (row["output_data"], row["outputs"], row["waiting"]) == ({"done": True}, 3, None)

    def test_errors(self, http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
        """401 wrong key, 403 another agent's key, 404 unknown run, 400 failed without error, 409 finished."""
        agent_id = manual_agent(cxpa_platform, "manual-errors")
        run_id = http.post(f"/api/agents/{agent_id}/runs/trigger", json={"input": {}}).json()["runId"]
        url = f"{cxpa_platform.base_url}/api/runs/{run_id}/callback"
        auth = agent_auth(cxpa_platform, agent_id)
        started = {"type": "started"}
        assert httpx2.post(url, json=started, headers={"Authorization": "Bearer nope"}).status_code == 401
        assert httpx2.post(url, json=started, headers=agent_auth(cxpa_platform, ECHO)).status_code == 403
        missing = f"{cxpa_platform.base_url}/api/runs/run_missing/callback"
        assert httpx2.post(missing, json=started, headers=auth).status_code == 404
        assert httpx2.post(url, json=started, headers=auth).status_code == 200
        no_error = httpx2.post(url, json={"type": "output", "failed": True}, headers=auth)
        assert no_error.status_code == 400
        assert no_error.json()["error"]["message"] == "error: is required"
        both = httpx2.post(
            url, json={"type": "output", "complete": True, "failed": True, "error": {"message": "x"}}, headers=auth
        )
        assert both.status_code == 400
        assert both.json()["error"]["message"] == "body: `complete` and `failed` are never both true."
        bad_tag = httpx2.post(url, json={"type": "finished"}, headers=auth)
        assert bad_tag.status_code == 400
        assert bad_tag.json()["error"]["message"] == "type: must be one of started, output, waiting, heartbeat"
        fail = {"type": "output", "failed": True, "error": {"message": "x"}}
        assert httpx2.post(url, json=fail, headers=auth).status_code == 200
        finished = httpx2.post(url, json=started, headers=auth)
        assert finished.status_code == 409
        assert error_code(finished) == "run_finished"
        assert finished.json()["error"]["runId"] == run_id


class TestResolveCredential:
    """GET /api/credentials/{connectionId}/resolve."""

    def token(self, http: httpx2.Client, agent_id: int, external: str) -> str:
        """A fresh credentials token for a registered run of an agent."""
        answer = http.post(f"/api/agents/{agent_id}/runs/register", json={"externalRunId": external})
        return str(answer.json()["credentialsToken"])

    def test_resolves_with_key_and_token(self, http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
        """200 with the connection's values."""
        token = self.token(http, ECHO, "resolve-ok")
        response = httpx2.get(
            f"{cxpa_platform.base_url}/api/credentials/conn_demo/resolve",
            headers={**agent_auth(cxpa_platform, ECHO), "X-Credentials-Token": token},
        )
        assert response.status_code == 200
        assert response.json() == {
            "connectionId": "conn_demo",
            "type": "api_key",
            "values": {"apiKey": "cxpa-demo-secret"},
            "expiresAt": None,
        }

    def test_errors(self, http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
        """401 without token, 401 token_expired, 403 another agent's token, 404 unknown connection."""
        url = f"{cxpa_platform.base_url}/api/credentials/conn_demo/resolve"
        auth = agent_auth(cxpa_platform, ECHO)
        assert httpx2.get(url, headers=auth).status_code == 401
        other = self.token(http, SLOW, "resolve-other")
        assert httpx2.get(url, headers={**auth, "X-Credentials-Token": other}).status_code == 403
        token = self.token(http, ECHO, "resolve-errors")
        missing = f"{cxpa_platform.base_url}/api/credentials/conn_missing/resolve"
        assert httpx2.get(missing, headers={**auth, "X-Credentials-Token": token}).status_code == 404
        cxpa_platform.expire_credentials_token(token)
        expired = httpx2.get(url, headers={**auth, "X-Credentials-Token": token})
        assert expired.status_code == 401
        assert error_code(expired) == "token_expired"


class TestGetAndCancel:
    """GET /api/agents/{agentId}/runs/{runId} and POST .../cancel."""

    def test_long_poll_answers_when_the_run_ends(self, http: httpx2.Client) -> None:
        """WaitMs holds the request until the run ends, not until the window elapses."""
        run_id = http.post(f"/api/agents/{SLOW}/runs/trigger", json={"input": {"seconds": 0.3}}).json()["runId"]
        started = time.monotonic()
        row = http.get(f"/api/agents/{SLOW}/runs/{run_id}", params={"waitMs": 20000}).json()
        assert row["status"] == "completed"
        assert time.monotonic() - started < 10

    def test_without_wait_answers_at_once(self, http: httpx2.Client) -> None:
        """Without waitMs the row is answered as it stands."""
        run_id = http.post(f"/api/agents/{SLOW}/runs/trigger", json={"input": {"seconds": 5}}).json()["runId"]
        assert http.get(f"/api/agents/{SLOW}/runs/{run_id}").json()["status"] in ("queued", "running")
        cancelled = http.post(f"/api/agents/{SLOW}/runs/{run_id}/cancel")
        assert cancelled.status_code == 200
        assert cancelled.json()["status"] == "cancelled"
        again = http.post(f"/api/agents/{SLOW}/runs/{run_id}/cancel")
        assert again.status_code == 409
        assert error_code(again) == "run_finished"

    @pytest.mark.parametrize("wait", ["-1", "60001", "soon"], ids=["negative", "over-cap", "not-a-number"])
    def test_bad_wait_is_400(self, http: httpx2.Client, wait: str) -> None:
        """WaitMs outside 0..60000 is 400 naming waitMs."""
        run_id = http.post(f"/api/agents/{ECHO}/runs/trigger", json={"input": {}}).json()["runId"]
        response = http.get(f"/api/agents/{ECHO}/runs/{run_id}", params={"waitMs": wait})
        assert response.status_code == 400
        assert response.json()["error"]["message"].startswith("waitMs:")

    def test_unknown_and_foreign_runs(self, http: httpx2.Client) -> None:
        """An unknown run is 404; a run of another agent is 403."""
        run_id = http.post(f"/api/agents/{ECHO}/runs/trigger", json={"input": {}}).json()["runId"]
        assert http.get(f"/api/agents/{ECHO}/runs/run_nope").status_code == 404
        assert http.get(f"/api/agents/{SLOW}/runs/{run_id}").status_code == 403


class TestApprovalAgent:
    """The built-in approval agent waits on a token until the platform resumes it."""

    def test_waits_then_completes_on_resume(self, http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
        """Waiting with tok_<runId>; resume completes it with the resume output merged in."""
        run_id = http.post(f"/api/agents/{APPROVAL}/runs/trigger", json={"input": {}}).json()["runId"]
        deadline = time.monotonic() + 10
        while cxpa_platform.run(run_id)["status"] != "waiting" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert cxpa_platform.run(run_id)["waiting"]["token_id"] == f"tok_{run_id}"
        cxpa_platform.resume(f"tok_{run_id}", {"by": "manager"})
        row = http.get(f"/api/agents/{APPROVAL}/runs/{run_id}", params={"waitMs": 10000}).json()
        assert (row["status"], row["output_data"]) == ("completed", {"approved": True, "by": "manager"})


class TestEnvelope:
    """Every answer, even for unknown paths and methods, is the contract's."""

    def test_unknown_path_is_a_404_envelope(self, http: httpx2.Client) -> None:
        """A path outside the API is a 404 Error envelope with X-Request-Id, not a framework page."""
        response = http.get("/nowhere")
        assert response.status_code == 404
        assert error_code(response) == "not_found"
        assert response.headers["x-request-id"]

    def test_wrong_method_is_a_405_envelope(self, http: httpx2.Client) -> None:
        """A method the path does not take is 405 with Allow."""
        response = http.delete(f"/api/agents/{ECHO}/runs/trigger")
        assert response.status_code == 405
        assert error_code(response) == "method_not_allowed"
        assert response.headers["allow"] == "POST"
