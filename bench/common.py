"""What the benchmarks share: the machine, servers in their own processes, figures.

Every server a benchmark measures runs in a process of its own, started here, so the
load generator (the benchmark's own process) never competes with it for the GIL.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TOKEN = "123456:BENCH-TOKEN"
SECRET = "bench-secret"
HOST = "127.0.0.1"


# --- the machine and the figures ------------------------------------------------------


def machine() -> str:
    """One line naming what the figures were measured on."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    # Other work on the machine moves every figure; the load average shows how much.
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, {today}, load average {load}"
    )


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def header(title: str) -> None:
    print(f"## {title}\n")
    print(f"Machine: {machine()}\n")


# --- processes --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(**values: object) -> dict[str, str]:
    """This process's environment without the bridge's settings, plus `values`."""
    prefixes = ("TELEGRAM_", "WOOCOMMERCE_", "BRIDGE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    # Servers import the checkout, whatever is installed.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env.update({k.upper(): str(v) for k, v in values.items() if v is not None})
    return env


class Server:
    """A server in its own process; its output goes to a log file."""

    def __init__(self, argv: list[str], env: Mapping[str, str], cwd: Path, log: Path) -> None:
        self.log = log
        self.name = " ".join(Path(a).name if "/" in a else a for a in argv[:4])
        self._out = log.open("wb")
        self.started_at = time.perf_counter()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            argv, env=dict(env), cwd=cwd, stdout=self._out, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, then SIGKILL if it does not stop within `timeout`."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._out.close()
        return self.process.returncode

    def rss_mib(self) -> float:
        """Resident memory now, from /proc."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no VmRSS for process {self.pid}")

    def cpu_seconds(self) -> float:
        """User and system CPU time the process has used so far, all threads."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{tail}")


def bridge_command() -> list[str]:
    """`woo-bridge serve`, as installed beside this interpreter."""
    script = Path(sys.executable).with_name("woo-bridge")
    if script.exists():
        return [str(script), "serve"]
    return [sys.executable, "-m", "bridge", "serve"]


@contextmanager
def workdir() -> Iterator[Path]:
    # The bridge reads a .env in its working directory: a fresh one has none.
    with tempfile.TemporaryDirectory(prefix="woo-bench-") as name:
        yield Path(name)


@contextmanager
def telegram_server(work: Path, *, flood: bool = False) -> Iterator[str]:
    """The stand-in Telegram in its own process; yields its root URL."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.telegram", "--port", str(port), "--token", TOKEN]
    if flood:
        argv.append("--flood")
    server = Server(argv, clean_env(), REPO, work / "telegram.log")
    url = f"http://{HOST}:{port}"
    try:
        wait_until(lambda: http_get(f"{url}/bench/stats?since=0") is not None, server, 20.0)
        yield url
    finally:
        server.stop()


#: settings that lift the bridge's own flood limits, for a stand-in that has none
UNTHROTTLED = {
    "bridge_rate_chat_interval_seconds": 0,
    "bridge_rate_overall_per_second": 1_000_000,
    "bridge_rate_group_per_minute": 1_000_000,
}
CHAT_ID = -100123


def bridge_settings(work: Path, port: int, telegram_url: str, **values: Any) -> dict[str, str]:
    """The environment of a bridge serving on `port` against the stand-in Telegram."""
    return clean_env(
        telegram_bot_token=TOKEN,
        telegram_api_base_url=telegram_url,
        woocommerce_webhook_secret=SECRET,
        bridge_data_dir=work / "data",
        bridge_host=HOST,
        bridge_port=port,
        **values,
    )


def start_bridge(work: Path, env: Mapping[str, str], *, wait: bool = True) -> Server:
    server = Server(bridge_command(), env, work, work / "bridge.log")
    if wait:
        url = f"http://{HOST}:{env['BRIDGE_PORT']}/healthz"
        wait_until(lambda: http_status(url) == 200, server, 30.0)
    return server


def wait_until(check: Any, server: Server, timeout: float, interval: float = 0.005) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        server.check_alive()
        if time.monotonic() > deadline:
            raise RuntimeError(f"{server.name} not ready after {timeout} s; see {server.log}")
        time.sleep(interval)


# --- tiny blocking HTTP, for polling between load runs --------------------------------


def _request(url: str) -> tuple[int, bytes] | None:
    host, _, rest = url.removeprefix("http://").partition("/")
    name, _, port = host.partition(":")
    try:
        with socket.create_connection((name, int(port or 80)), timeout=5) as sock:
            sock.sendall(f"GET /{rest} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except OSError:
        return None
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/"):
        return None
    return int(head.split(b" ", 2)[1]), body


def http_status(url: str) -> int | None:
    answer = _request(url)
    return None if answer is None else answer[0]


def http_get(url: str) -> Any:
    """The JSON at `url`, or None if the server does not answer (yet)."""
    answer = _request(url)
    if answer is None or answer[0] != 200:
        return None
    return json.loads(answer[1])


def telegram_stats(url: str, since: int = 0) -> dict[str, Any]:
    """Messages the stand-in accepted from index `since` on, and its 429 count."""
    stats = http_get(f"{url}/bench/stats?since={since}")
    if stats is None:
        raise RuntimeError(f"the stand-in Telegram at {url} does not answer")
    return dict(stats)


async def wait_for_sent(url: str, count: int, timeout: float) -> None:
    """Wait until the stand-in Telegram has accepted `count` messages."""
    deadline = time.monotonic() + timeout
    while True:
        stats = await asyncio.to_thread(http_get, f"{url}/bench/count")
        if stats is not None and stats["sent"] >= count:
            return
        if time.monotonic() > deadline:
            seen = None if stats is None else stats["sent"]
            raise RuntimeError(f"only {seen} of {count} messages reached Telegram in {timeout} s")
        await asyncio.sleep(0.05)


@contextmanager
def profiled(server: Server, output: Path | None, *, native: bool = False) -> Iterator[None]:
    """Sample `server` with py-spy while the block runs (the `bench` extra installs it).

    The output is py-spy's collapsed stacks (`--format raw`), which `bench.hot` sums up.
    """
    if output is None:
        yield
        return
    py_spy = Path(sys.executable).with_name("py-spy")
    argv = [str(py_spy), "record", "--pid", str(server.pid), "--rate", "500"]
    argv += ["--format", "raw", "--output", str(output), "--threads", "--nonblocking"]
    if os.environ.get("BENCH_PROFILE_GIL"):
        argv.append("--gil")
    if native:
        argv.append("--native")
    spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait(30)
