"""The dev cluster's key material: verifiable TLS for 127.0.0.1, private keys kept private."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from gitward.devcluster.pki import make_pki


def test_serving_certificate_is_signed_by_the_ca_for_loopback_only(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    cert = x509.load_pem_x509_certificate(pki.serving_cert.read_bytes())

    cert.verify_directly_issued_by(ca)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert isinstance(ca.public_key(), ec.EllipticCurvePublicKey)


def test_private_keys_are_readable_by_the_owner_only(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    for key in (pki.ca_key, pki.serving_key, pki.sa_private):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key


def test_each_start_makes_new_keys(tmp_path: Path) -> None:
    first = make_pki(tmp_path / "a")
    second = make_pki(tmp_path / "b")
    assert first.sa_private.read_bytes() != second.sa_private.read_bytes()
