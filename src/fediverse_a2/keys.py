"""Actor key pairs: RSA-2048 private keys as PEM files (mode 0600) under keys_dir."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["INSTANCE_KEY", "KeyStore", "public_pem"]

# Not a valid username (usernames are [a-z0-9_]), so it can never clash with a member.
INSTANCE_KEY = "instance-actor"


def public_pem(private_key: rsa.RSAPrivateKey) -> str:
    """The SubjectPublicKeyInfo PEM that goes into an actor's publicKeyPem."""
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


# link() fails with these where a file system has no hard links (some network and FUSE mounts).
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.ENOSYS})


def _write_exclusive(target: Path, pem: bytes) -> None:
    """The fallback: create the key file exclusively (never clobbering one) and write it."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())


class KeyStore:
    """Creates and loads private keys; parsed keys are cached for the life of the process."""

    def __init__(self, keys_dir: Path) -> None:
        self.keys_dir = keys_dir
        self._cache: dict[str, rsa.RSAPrivateKey] = {}
        self._lock = threading.Lock()  # one key generation at a time within this process

    def path(self, name: str) -> Path:
        """Where the private key of actor `name` lives."""
        return self.keys_dir / f"{name}.pem"

    def create(self, name: str) -> rsa.RSAPrivateKey:
        """Generate a new key pair for `name`; refuses to overwrite an existing key file."""
        self.keys_dir.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # The key is written whole to a private temporary file and then hard-linked into
        # place: link() is atomic and refuses an existing name, so a reader never sees a
        # half-written key and a key that remote servers already know is never clobbered.
        target = self.path(name)
        tmp = target.with_name(f".{name}.{os.getpid()}.{threading.get_ident()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise
            except OSError as exc:
                if exc.errno not in _NO_HARD_LINKS:
                    raise
                _write_exclusive(target, pem)  # a file system without hard links
        finally:
            tmp.unlink(missing_ok=True)
        self._cache[name] = key
        return key

    def load(self, name: str) -> rsa.RSAPrivateKey:
        """The private key of `name`, read from disk once."""
        key = self._cache.get(name)
        if key is None:
            data = self.path(name).read_bytes()
            loaded = serialization.load_pem_private_key(data, password=None)
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise ValueError(f"{self.path(name)} is not an RSA private key")
            key = self._cache[name] = loaded
        return key

    def remove(self, name: str) -> None:
        """Drop the key of `name` for good: its file and this process's copy (an erased account's)."""
        self._cache.pop(name, None)
        self.path(name).unlink(missing_ok=True)

    def exists(self, name: str) -> bool:
        """Whether a key file for `name` is present."""
        return self.path(name).exists()

    def ensure(self, name: str) -> rsa.RSAPrivateKey:
        """Load the key of `name`, creating it on first use (safe across threads and processes)."""
        if name in self._cache:
            return self._cache[name]
        with self._lock:
            try:
                return self.load(name)
            except FileNotFoundError:
                try:
                    return self.create(name)
                except FileExistsError:  # another process created it just now
                    return self.load(name)
