"""The local API server's keys and certificates: a CA, a serving certificate for loopback, the ServiceAccount key."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


class Pki:
    """Keys and certificates the API server needs, written as PEM files into one folder."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "local-cluster-ca")])
        ca_cert = (
            self._builder(subject=ca_name, issuer=ca_name, public_key=ca_key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        server_key = ec.generate_private_key(ec.SECP256R1())
        server_names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))]
        server_cert = (
            self._builder(
                subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]),
                issuer=ca_name,
                public_key=server_key.public_key(),
            )
            .add_extension(x509.SubjectAlternativeName(server_names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        # Signs ServiceAccount tokens issued through the TokenRequest API.
        service_account_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

        self.ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
        self.ca_cert = self._write(folder / "ca.crt", self.ca_pem)
        self.server_cert = self._write(folder / "server.crt", server_cert.public_bytes(serialization.Encoding.PEM))
        self.server_key = self._write(folder / "server.key", self._private_pem(server_key))
        self.service_account_key = self._write(folder / "sa.key", self._private_pem(service_account_key))
        self.service_account_public_key = self._write(
            folder / "sa.pub",
            service_account_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        )

    @staticmethod
    def _builder(
        *, subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey
    ) -> x509.CertificateBuilder:
        now = datetime.datetime.now(datetime.UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=365))
        )

    @staticmethod
    def _private_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @staticmethod
    def _write(path: Path, content: bytes) -> Path:
        path.write_bytes(content)
        path.chmod(0o600)
        return path
