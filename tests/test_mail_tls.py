"""Mail over STARTTLS to a real SMTP server whose certificate a CA directory vouches for: with the
notifier's lazy CA lookup (OpenSSL reads the hashed CA directory, not the whole bundle, for every
mail) a trusted server still gets the mail and an untrusted one still does not."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from servers import Mailbox

from tracker.alerts.send import lazy_ca_lookup

ROOT = Path(__file__).resolve().parent.parent


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _pem_key(key: Any) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_ca(folder: Path, name: str) -> tuple[Any, x509.Certificate]:
    """A CA certificate and key, written to `folder` as `<name>.pem`."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


def server_context(folder: Path, ca_key: Any, ca: x509.Certificate, name: str) -> ssl.SSLContext:
    """A TLS server context for 127.0.0.1 with a certificate `ca` signed."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    (folder / f"{name}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / f"{name}.key").write_bytes(_pem_key(key))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / f"{name}.crt", folder / f"{name}.key")
    return context


def mail_url(mailbox: Mailbox) -> str:
    return (f"mailto://127.0.0.1:{mailbox.port}?smtp=127.0.0.1&mode=starttls"
            "&from=tracker@example.org&to=organizer@example.org")


SEND = """
import ssl, sys, apprise
from tracker.alerts.send import lazy_ca_lookup
assert lazy_ca_lookup(sys.argv[1]), "the lazy lookup was not applied"
# Nothing parsed up front: OpenSSL reads a CA file when a handshake asks for it.
assert ssl.create_default_context().cert_store_stats()["x509_ca"] == 0
sender = apprise.Apprise()
assert sender.add(sys.argv[2])
print("sent" if sender.notify(title="Deferred: Committee on Public Safety", body="Moved to Dec 3.") else "refused")
"""


@pytest.fixture
def ca_dir(tmp_path: Path) -> tuple[Path, Any, x509.Certificate]:
    """A CA directory in OpenSSL's hashed layout, holding one trusted CA."""
    folder = tmp_path / "cas"
    folder.mkdir()
    key, cert = make_ca(tmp_path, "trusted-ca")
    subject_hash = subprocess.run(["openssl", "x509", "-subject_hash", "-noout", "-in", str(tmp_path / "trusted-ca.pem")],
                                  capture_output=True, text=True, check=True).stdout.strip()
    (folder / f"{subject_hash}.0").write_bytes((tmp_path / "trusted-ca.pem").read_bytes())
    return folder, key, cert


def send(ca_folder: Path, url: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", SEND, str(ca_folder), url], capture_output=True, text=True,
                          env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_a_trusted_server_gets_the_mail_an_untrusted_one_does_not(tmp_path: Path, ca_dir: tuple[Path, Any, Any]) -> None:
    folder, ca_key, ca = ca_dir
    trusted = Mailbox(tls=server_context(tmp_path, ca_key, ca, "trusted"))  # mail only after STARTTLS
    other_key, other = make_ca(tmp_path, "unknown-ca")
    untrusted = Mailbox(tls=server_context(tmp_path, other_key, other, "untrusted"))
    trusted.start()
    untrusted.start()
    try:
        assert send(folder, mail_url(trusted)) == "sent"
        assert len(trusted.messages) == 1 and b"Moved to Dec 3." in trusted.messages[0][1].as_bytes()
        assert send(folder, mail_url(untrusted)) == "refused"
        assert untrusted.messages == []
    finally:
        trusted.stop()
        untrusted.stop()


def test_the_operators_own_ca_settings_are_left_alone(tmp_path: Path, ca_dir: tuple[Path, Any, Any],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    folder, _, _ = ca_dir
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "trusted-ca.pem"))  # the operator's own CA
    assert not lazy_ca_lookup(str(folder))
    assert os.environ["SSL_CERT_FILE"] == str(tmp_path / "trusted-ca.pem") and "SSL_CERT_DIR" not in os.environ
    monkeypatch.delenv("SSL_CERT_FILE")
    assert not lazy_ca_lookup(str(tmp_path))  # a folder with no hashed CA files: nothing changes
    assert "SSL_CERT_FILE" not in os.environ and "SSL_CERT_DIR" not in os.environ
