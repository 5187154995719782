"""A real RFC 3161 time-stamping authority on loopback, for tests and benchmarks.

Certomancer (the PKI test tool pyHanko's own tests use) serves a root CA, a time-stamping
certificate it issued, the root's CRL and the TSA itself from a separate process.  Keys are made
fresh for each run; nothing is fetched from outside this machine.

    with running_tsa(tmp_dir) as tsa:
        tsa.url          # POST RFC 3161 requests here
        tsa.root         # the TSA's trust anchor (cryptography certificate)
        tsa.root_pem     # the same, as a PEM file path

Run directly (``python tests/support/tsa.py CONFIG PORT``) this file is the server process.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ARCH = "tenderhall-test"


@dataclass(frozen=True)
class TimeStampingAuthority:
    url: str
    root_pem: Path
    base_url: str

    @property
    def root(self) -> object:
        from cryptography import x509

        return x509.load_pem_x509_certificate(self.root_pem.read_bytes())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _write_keys(folder: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    for name in ("root", "tsa"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (folder / f"{name}.key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )


def _config(base_url: str) -> str:
    return f"""
external-url-prefix: "{base_url}"
keysets:
  {ARCH}:
    keys:
      root: {{path: root.key.pem}}
      tsa: {{path: tsa.key.pem}}
pki-architectures:
  {ARCH}:
    keyset: {ARCH}
    entity-defaults: {{country-name: CN, organization-name: TenderHall Test TSA}}
    entities:
      root: {{common-name: Test TSA Root}}
      tsa: {{common-name: Test Time Stamping Authority}}
    certs:
      root:
        subject: root
        issuer: root
        validity: {{valid-from: "2000-01-01T00:00:00+0000", valid-to: "2500-01-01T00:00:00+0000"}}
        profiles:
          - id: simple-ca
            params: {{crl-repo: root}}
      tsa:
        issuer: root
        validity: {{valid-from: "2000-01-01T00:00:00+0000", valid-to: "2400-01-01T00:00:00+0000"}}
        extensions:
          - id: key_usage
            critical: true
            smart-value: {{schema: key-usage, params: [digital_signature]}}
          - id: extended_key_usage
            critical: true
            value: [time_stamping]
          - id: crl_distribution_points
            smart-value: {{schema: crl-dist-url, params: {{crl-repo-names: [root]}}}}
    services:
      crl-repo:
        root: {{for-issuer: root, signing-key: root, simulated-update-schedule: "P90D"}}
      time-stamping:
        tsa: {{signing-key: tsa, signing-cert: tsa}}
"""


@contextlib.contextmanager
def running_tsa(folder: Path, *, start_timeout: float = 30.0) -> Iterator[TimeStampingAuthority]:
    """Start the TSA process in ``folder`` (keys, configuration, root certificate); stop it after."""
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    _write_keys(folder)
    config = folder / "certomancer.yml"
    config.write_text(_config(base_url))
    root_pem = folder / "tsa-root.pem"
    subprocess.run(
        [sys.executable, "-m", "certomancer", "--config", str(config), "summon", ARCH, "root", str(root_pem)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    proc = subprocess.Popen(
        [sys.executable, __file__, str(config), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise RuntimeError(f"the TSA process ended at start: {err[-2000:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the TSA process did not start listening in time")
            time.sleep(0.1)
        yield TimeStampingAuthority(url=f"{base_url}/{ARCH}/tsa/tsa", root_pem=root_pem, base_url=base_url)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _serve(config: str, port: int) -> None:
    """The server process: certomancer's aiohttp animator, on IPv4 loopback only."""
    from aiohttp import web
    from certomancer.integrations.aiohttp_animator import build_animator_app
    from certomancer.registry import CertomancerConfig

    cfg = CertomancerConfig.from_file(config)
    app = build_animator_app(cfg.pki_archs, with_web_ui=False, allow_time_override=False)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    _serve(sys.argv[1], int(sys.argv[2]))
