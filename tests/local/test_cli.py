"""`tijori local up` as a user runs it: three lines once ready, Ctrl-C stops everything."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tijori_local.runtime import LocalRuntime, RuntimeOptions


def test_local_up_prints_the_urls_serves_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    tijori = Path(sys.executable).parent / "tijori"
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [str(tijori), "local", "up", "--port", "0", "--api-token", "t0k"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = {}
        for line in process.stdout:
            if "=" in line and line.split("=", 1)[0] in ("API_URL", "AWS_ENDPOINT_URL", "SIM_URL"):
                key, value = line.strip().split("=", 1)
                lines[key] = value
            if len(lines) == 3:
                break
        assert set(lines) == {"API_URL", "AWS_ENDPOINT_URL", "SIM_URL"}
        assert httpx.get(f"{lines['API_URL']}/v1/payouts/NONE").status_code == 401
        authorised = httpx.get(f"{lines['API_URL']}/v1/payouts/NONE", headers={"Authorization": "Bearer t0k"})
        assert authorised.status_code == 404
        assert httpx.get(f"{lines['SIM_URL']}/_sim/conservation").status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_local_up_with_bad_credentials_fails_naming_the_field(tmp_path: Path) -> None:
    credentials = tmp_path / "merchant.json"
    credentials.write_text(json.dumps({"mid": "X", "pg": {"merchant_key": "short", "website_name": "W"}}))
    tijori = Path(sys.executable).parent / "tijori"
    result = subprocess.run(  # noqa: S603 - our own console script
        [str(tijori), "local", "up", "--port", "0", "--credentials", str(credentials)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "pg.merchant_key: " in result.stderr


def test_paytm_url_sends_every_paytm_call_there_and_starts_no_simulator(
    merchant_credentials: dict[str, Any],
) -> None:
    options = RuntimeOptions(
        api_port=0, credentials=merchant_credentials, paytm_url="http://127.0.0.1:9/paytm"
    )
    with LocalRuntime(options) as runtime:
        assert runtime.simulator is None
        assert runtime.sim_url is None
        assert runtime.stack is not None
        urls = {
            name: value
            for spec in runtime.stack.functions.values()
            for name, value in spec.environment.items()
            if name.startswith("PAYTM_")
        }
        assert urls
        assert set(urls.values()) == {"http://127.0.0.1:9/paytm"}
