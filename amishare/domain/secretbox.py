"""Encryption of secret access keys at rest.

SigV4 needs the secret itself to recompute a signature, so it cannot be
hashed; it is sealed with AES-GCM under a master key that lives in a file
next to the SQLite database (or where AMISHARE_MASTER_KEY_FILE says), never in
the database.
"""

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def key_file_for(db_url: str) -> Path:
    explicit = os.environ.get("AMISHARE_MASTER_KEY_FILE")
    if explicit:
        return Path(explicit)
    if db_url.startswith("sqlite") and "///" in db_url:
        return Path(db_url.split("///", 1)[1] + ".key")
    return Path.home() / ".config" / "amishare" / "master.key"


class SecretBox:
    def __init__(self, key: bytes):
        self._aead = AESGCM(key)

    @classmethod
    def for_database(cls, db_url: str) -> "SecretBox":
        return cls.from_file(key_file_for(db_url))

    @classmethod
    def from_file(cls, path: Path) -> "SecretBox":
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, base64.b64encode(AESGCM.generate_key(bit_length=256)))
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)
        return cls(base64.b64decode(path.read_bytes().strip()))

    def seal(self, plaintext: str, associated: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), associated.encode())
        return base64.b64encode(nonce + sealed).decode()

    def open(self, ciphertext: str, associated: str) -> str:
        raw = base64.b64decode(ciphertext)
        return self._aead.decrypt(raw[:12], raw[12:], associated.encode()).decode()
